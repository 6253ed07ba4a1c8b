"""Each detector on the pattern it is for, and on the benign traffic that resembles it; the
state a restarted gateway reloads; bounded memory on a long stream."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from miaudit.errors import InputError
from miaudit.monitor import KeyState, Monitor, Settings, TrainingIndex
from miaudit.monitor.detectors.training_overlap import log_bayes_factor
from miaudit.querylog import QueryRecord

SECRET = b"0123456789abcdef-test-secret"
START = 1_795_996_800.0


class Log:
    """Hand-made traffic: records with a clock per key, answered by a fixed linear rule."""

    def __init__(self, features: int = 6) -> None:
        self.rng = np.random.default_rng(0)
        self.features = features
        self.clock: dict[str, float] = {}

    def query(self, key: str, row: np.ndarray, gap: float = 1.0, label_only: bool = False):
        self.clock[key] = self.clock.get(key, START) + gap
        p = 1 / (1 + math.exp(-float(row.sum())))
        output = int(p > 0.5) if label_only else [round(1 - p, 6), round(p, 6)]
        policy = "label-only" if label_only else "full"
        return QueryRecord(self.clock[key], key, "r", "m", row.tolist(), output, policy, 200)

    def fresh(self, n: int) -> np.ndarray:
        return np.round(self.rng.normal(size=(n, self.features)), 4)


@pytest.fixture()
def world() -> tuple[Log, np.ndarray, TrainingIndex]:
    log = Log()
    train = log.fresh(500)
    return log, train, TrainingIndex.build(train.tolist(), SECRET)


def feed(monitor: Monitor, records: list[QueryRecord]) -> list:
    return [alert for record in records for alert in monitor.observe(record)]


def peaks(monitor: Monitor, key: str) -> dict[str, float]:
    return monitor.keys[key].peaks


def test_training_overlap_counts_distinct_records_only(world) -> None:
    log, train, index = world
    monitor = Monitor(index=index, scales=_unit_scales())
    # a campaign: candidates half of them training records
    candidates = np.concatenate([train[:40], log.fresh(40)])[log.rng.permutation(80)]
    feed(monitor, [log.query("attacker", row) for row in candidates])
    # ordinary use: fresh records (the benign rate: none in the training set here)
    feed(monitor, [log.query("user", row) for row in log.fresh(300)])
    # a repeat user: the same 10 training customers, 300 times
    book = train[100:110]
    feed(monitor, [log.query("repeat", book[i % 10]) for i in range(300)])
    s = Settings()
    # ordinary use: near the benign rate (proximity's false hits included), no evidence
    user = monitor.keys["user"].state("training-overlap")
    assert user.trials == 300 and user.hits <= 30
    assert peaks(monitor, "user")["training-overlap"] < 1.0
    # the repeat user's evidence stops at its 10 distinct records: 10 hits in 10
    assert monitor.keys["repeat"].distinct == 10
    most = log_bayes_factor(10, 10, s.overlap_rate)
    assert peaks(monitor, "repeat")["training-overlap"] <= most + 1e-9
    # the campaign: at least its 40 hits among 80 (fresh records may hit by proximity too)
    attacker = monitor.keys["attacker"].state("training-overlap")
    assert attacker.trials == 80 and 40 <= attacker.hits <= 48
    assert peaks(monitor, "attacker")["training-overlap"] >= log_bayes_factor(
        40, 80, s.overlap_rate
    )
    assert (
        peaks(monitor, "attacker")["training-overlap"]
        > peaks(monitor, "repeat")["training-overlap"]
    )


def test_near_copies_count_once_per_training_neighbourhood(world) -> None:
    """Proximity: candidates nudged by 1e-3 sd (the exact hash misses them all) are training
    hits; a customer's what-if edits of their own record are one neighbourhood, not many."""
    log, train, index = world
    monitor = Monitor(index=index, scales=_unit_scales())
    nudged = train[:40] + log.rng.normal(scale=1e-3, size=train[:40].shape)
    assert not any(index.contains_exact(r) for r in nudged.tolist())
    candidates = np.concatenate([nudged, log.fresh(40)])[log.rng.permutation(80)]
    feed(monitor, [log.query("nudging", row) for row in candidates])
    own = train[300]
    edits = [own + log.rng.normal(scale=0.01, size=own.shape) for _ in range(30)]
    feed(monitor, [log.query("what-if", row) for row in [own, *edits]])
    nudging = monitor.keys["nudging"].state("training-overlap")
    assert nudging.hits >= 40 and nudging.trials == 80
    what_if = monitor.keys["what-if"].state("training-overlap")
    assert (what_if.hits, what_if.trials) == (1, 1)  # 30 edits: the same neighbourhood
    assert monitor.keys["what-if"].distinct == 31
    assert peaks(monitor, "nudging")["training-overlap"] > 5 * max(
        peaks(monitor, "what-if")["training-overlap"], 1.0
    )


def test_an_index_rounded_otherwise_than_the_monitor_still_matches(world) -> None:
    """An index built with --decimals 2 (the monitor rounds to 4 places by default) used to
    match nothing: every lookup goes through the index's own rounding."""
    log, train, _ = world
    index = TrainingIndex.build(train.tolist(), SECRET, decimals=2, radius=None)  # exact only
    monitor = Monitor(index=index, scales=_unit_scales())
    feed(monitor, [log.query("attacker", row) for row in train[:40]])
    feed(monitor, [log.query("user", row) for row in log.fresh(40)])
    assert monitor.keys["attacker"].state("training-overlap").hits == 40
    assert monitor.keys["user"].state("training-overlap").hits == 0


def test_calibration_sees_alternation(world) -> None:
    log, train, _ = world
    index = TrainingIndex.build(train.tolist(), SECRET, radius=None)  # no false hits
    monitor = Monitor(index=index, scales=_unit_scales())
    known = log.fresh(60)
    alternating = [row for pair in zip(train[:60], known, strict=True) for row in pair]
    feed(monitor, [log.query("calibrating", row) for row in alternating])
    # the same records, members first then non-members: no alternation
    grouped = [*train[200:260], *log.fresh(60)]
    feed(monitor, [log.query("grouped", row) for row in grouped])
    up, _ = Settings().switch_steps
    assert monitor.keys["calibrating"].switches == 119
    assert peaks(monitor, "calibrating")["calibration"] > 50 * up
    assert peaks(monitor, "grouped")["calibration"] <= up  # one switch in 120 queries


def test_near_duplicates_weighted_by_training_centres(world) -> None:
    log, train, index = world
    monitor = Monitor(index=index, scales=_unit_scales())
    # label-noise: a training record, then 32 copies at 0.2 standard deviations; ten of them
    noisy = []
    for centre in train[:10]:
        noisy += [centre, *(centre + 0.2 * log.rng.normal(size=(32, log.features)))]
    feed(monitor, [log.query("label-noise", row, 0.1, label_only=True) for row in noisy])
    # an explainer: fresh records and 300 LIME-style perturbations of each (closer still)
    explained = []
    for centre in log.fresh(5):
        explained += [centre, *(centre + 0.1 * log.rng.normal(size=(300, log.features)))]
    feed(monitor, [log.query("explainer", row, 0.01) for row in explained])
    noise, explainer = monitor.keys["label-noise"], monitor.keys["explainer"]
    assert noise.bursts == 10 and noise.training_bursts == 10
    up, _ = Settings().burst_steps
    assert peaks(monitor, "label-noise")["near-duplicates"] == pytest.approx(10 * up)
    assert explainer.bursts >= 5 and explainer.training_bursts == 0
    assert peaks(monitor, "explainer")["near-duplicates"] == 0


def test_boundary_walk_counts_close_label_flips(world) -> None:
    log, _, index = world
    monitor = Monitor(index=index, scales=_unit_scales())
    # bisection along a direction crossing the rule's boundary (sum = 0)
    walk = []
    for start in log.fresh(3):
        direction = -np.sign(start.sum()) * np.ones(log.features) / math.sqrt(log.features)
        low, high = 0.0, 4.0 * abs(start.sum())
        for _ in range(10):
            middle = (low + high) / 2
            point = start + middle * direction
            walk.append(point)
            crossed = np.sign(point.sum()) != np.sign(start.sum())
            low, high = (low, middle) if crossed else (middle, high)
    feed(monitor, [log.query("walker", row, 0.1, label_only=True) for row in walk])
    # benign: far-apart fresh records (labels flip between them, but never close)
    feed(monitor, [log.query("user", row) for row in log.fresh(300)])
    assert peaks(monitor, "walker")["boundary-walk"] >= 6
    assert peaks(monitor, "user")["boundary-walk"] == 0


def test_volume_and_harvesting_count_within_the_period(world) -> None:
    log, _, index = world
    monitor = Monitor(Settings(period=60), index=index, scales=_unit_scales())
    rows = log.fresh(200)
    feed(monitor, [log.query("fast", row, 0.1) for row in rows[:100]])  # 100 in 10 s
    feed(monitor, [log.query("fast", row, 1.0) for row in rows[:100]])  # repeats: not new
    state = monitor.keys["fast"]
    assert state.peaks["harvesting"] == 100
    # a 60-s window holds the 100 fast queries (seconds 0-10) and the repeats of seconds 11-60
    assert state.peaks["volume"] == 150
    feed(monitor, [log.query("fast", rows[150], 120.0)])  # two minutes later: windows empty
    assert state.scores["volume"] == 1 and state.scores["harvesting"] == 1
    # a label-only key harvests nothing
    feed(monitor, [log.query("labels", row, 0.1, label_only=True) for row in rows[100:]])
    assert monitor.keys["labels"].peaks["harvesting"] == 0


def test_keys_sharing_records_form_one_campaign(world) -> None:
    log, train, index = world
    thresholds = {"campaign": 10.0}
    monitor = Monitor(index=index, thresholds=thresholds, scales=_unit_scales())
    anchors = log.fresh(10)  # known non-members every key uses to calibrate
    records = []
    for number in range(4):
        tile = train[number * 15 : (number + 1) * 15]
        for member, anchor in zip(tile, anchors[np.arange(15) % 10], strict=True):
            records += [log.query(f"k{number}", member), log.query(f"k{number}", anchor)]
    records.sort(key=lambda r: r.time)
    # an unrelated key that shares two training records with them: not linked
    records += [log.query("other", row) for row in [*train[:2], *log.fresh(50)]]
    alerts = feed(monitor, records)
    campaign = [a for a in alerts if a.detector == "campaign"]
    assert campaign and set(campaign[-1].keys) == {"k0", "k1", "k2", "k3"}
    assert campaign[0].score > 10.0
    assert monitor.peaks()["other"]["campaign"] == 0


def test_keys_of_one_client_pool_their_evidence(world) -> None:
    log, train, index = world
    # 5 hits of 5 records is 13.2 nats against p* = 0.05: no key alone can reach 14
    assert log_bayes_factor(5, 5, Settings().overlap_rate) < 14.0
    monitor = Monitor(index=index, thresholds={"client": 8.0, "training-overlap": 14.0},
                      scales=_unit_scales())  # fmt: skip
    rows = np.concatenate([train[:100], log.fresh(100)])[log.rng.permutation(200)]
    records = []
    for spread in (False, True):  # 20 keys × 5 records, half training: one address, or 20
        for number in range(20):
            key = f"{'spread' if spread else 'one'}-{number}"
            client = f"10.0.{int(spread)}.{number if spread else 0}"
            tile = rows[number * 5 + 100 * spread : (number + 1) * 5 + 100 * spread]
            records += [replace(log.query(key, row), client=client) for row in tile]
    # a colleague behind the campaign's address, querying fresh records only
    records += [replace(log.query("colleague", row), client="10.0.0.0") for row in log.fresh(30)]
    alerts = feed(monitor, sorted(records, key=lambda r: r.time))
    pooled = [a for a in alerts if a.detector == "client"]
    # an alert on the client naming the keys whose own share is above p* (those carrying
    # the excess), a key implicated later an alert of its own; no key alone alerts
    assert len(pooled[0].keys) >= 2 and pooled[0].keys == sorted(pooled[0].keys)
    assert all(len(a.keys) == 1 for a in pooled[1:]) and pooled[0].key in pooled[0].keys
    named = {k for a in pooled for k in a.keys}
    hitting = {k for k in monitor.keys if monitor.keys[k].state("training-overlap").hits}
    assert named == {f"one-{n}" for n in range(20)} & hitting and "colleague" not in named
    assert len({k for a in pooled for k in a.keys}) == sum(len(a.keys) for a in pooled)  # once
    assert pooled[0].evidence["client"] == "10.0.0.0" and pooled[0].score > 8.0
    assert pooled[0].evidence["group"] == "client 10.0.0.0"
    assert not [a for a in alerts if a.detector == "training-overlap"]
    # keys from unrelated addresses are judged one by one (the residual: docs/monitor.md)
    assert all(monitor.peaks()[f"spread-{n}"]["client"] == 0.0 for n in range(20))


def test_a_clients_history_neither_hides_a_campaign_nor_counts_a_record_twice(world) -> None:
    log, train, index = world
    settings = Settings()

    def pooled(records: list[QueryRecord]) -> list:
        monitor = Monitor(settings, {"client": 8.0}, index, _unit_scales())
        return [a for a in feed(monitor, records) if a.detector == "client"]

    def sent(key: str, rows: np.ndarray, client: str = "2001:db8:7:7::1") -> list[QueryRecord]:
        return [replace(log.query(key, row), client=client) for row in rows]

    # 700 fresh records banked by a cover key first, then two keys' candidates (half training)
    campaign = np.concatenate([train[200:230], log.fresh(30)])[log.rng.permutation(60)]
    banked = sent("cover", log.fresh(700))
    split = [r for pair in zip(sent("a", campaign[:30]), sent("b", campaign[30:]), strict=True)
             for r in pair]  # fmt: skip
    found = pooled(banked + split)
    assert found and set(found[0].keys) <= {"a", "b"}  # Page's restart: the misses hide nothing
    # another address in the same IPv6 /64 is the same client; an IPv4 one is not
    assert pooled(sent("a", campaign[:30]) + sent("b", campaign[30:], "2001:db8:7:7::99"))
    assert not pooled(sent("a", campaign[:30]) + sent("b", campaign[30:], "192.0.2.1"))
    # four keys sending the same ten training records: ten records, not forty
    same = [r for k in "wxyz" for r in sent(k, train[300:310], "192.0.2.2")]
    monitor = Monitor(settings, {}, index, _unit_scales())
    feed(monitor, same)
    pool = monitor.shared["client"].pools["192.0.2.2"]
    assert (pool.hits, pool.trials) == (10, 10)


@pytest.mark.parametrize("similarity", ["knn", "hash"])
def test_state_round_trip_continues_exactly(world, similarity: str) -> None:
    log, train, index = world
    rows = [*train[:30], *log.fresh(30)]
    noisy = [r + 0.2 * log.rng.normal(size=log.features) for r in rows for _ in range(3)]
    records = [log.query("k", row, 0.5) for row in [*rows, *noisy]]
    settings = Settings(similarity=similarity, hash_window=2, hash_top=5, hash_match=3)
    whole = Monitor(settings, index=index, scales=_unit_scales())
    feed(whole, records)
    first = Monitor(settings, index=index, scales=_unit_scales())
    feed(first, records[:100])
    saved = json.loads(json.dumps(first.keys["k"].to_dict()))
    second = Monitor(settings, index=index, scales=_unit_scales())
    second.keys["k"] = KeyState.from_dict(saved)
    feed(second, records[100:])
    assert second.keys["k"].scores == whole.keys["k"].scores
    assert second.keys["k"].peaks == whole.keys["k"].peaks
    assert whole.keys["k"].bursts > 0  # the copies were found either way


def test_memory_stays_bounded_on_a_long_stream() -> None:
    settings = Settings(window=32, seen=64, shared=500)
    monitor = Monitor(settings)

    def stream() -> Iterator[QueryRecord]:
        rng = np.random.default_rng(3)
        for n in range(30_000):
            row = np.round(rng.normal(size=4), 3).tolist()
            yield QueryRecord(
                START + n * 0.01, f"k{n % 20}", "r", "m", row, [0.4, 0.6], "full", 200
            )

    for _ in monitor.run(stream()):
        pass
    assert monitor.processed == 30_000
    for state in monitor.keys.values():
        copies = state.state("near-duplicates")
        assert len(state.seen) <= 64 and len(copies.clusters) <= 32 and len(copies.centres) <= 32
        assert state.ring is not None and len(state.ring) == 32
        for rate in ("volume", "harvesting"):
            assert len(state.state(rate).seconds) <= settings.period + 1
    assert len(monitor.shared["campaign"].owner) <= 500


def test_settings_are_checked() -> None:
    with pytest.raises(InputError, match="window"):
        Settings(window=0)
    with pytest.raises(InputError, match="baseline_rate < member_rate"):
        Settings(baseline_rate=0.5)


def _unit_scales():
    """Features already in standard deviations (the hand-made rows are N(0, 1))."""
    from miaudit.monitor import Scales

    return Scales.of({"mean": [0.0] * 6, "scale": [1.0] * 6})


def _images(rng: np.random.Generator, n: int) -> np.ndarray:
    """Smooth 28×28 images: three Gaussian blobs each, flattened."""
    grid = np.arange(28)
    out = np.zeros((n, 28, 28))
    for image in out:
        for _ in range(3):
            y, x = rng.uniform(6, 22, 2)
            image += rng.uniform(0.5, 1) * np.exp(
                -((grid[:, None] - y) ** 2 + (grid[None, :] - x) ** 2) / rng.uniform(4, 12)
            )
    return np.round(out.reshape(n, -1), 3)


def test_shifted_image_copies_are_found_by_fingerprint_not_by_distance() -> None:
    from miaudit.attacks.perturb import FeatureSpace
    from miaudit.monitor import Scales

    rng = np.random.default_rng(4)
    train, fresh = _images(rng, 40), _images(rng, 300)
    index = TrainingIndex.build(train.tolist(), SECRET)
    spread = fresh.std(axis=0)
    scales = Scales.of({"mean": fresh.mean(axis=0).tolist(), "scale": spread.tolist()})
    # miaudit's label-noise attack on images: identity, flips and shifts of each candidate
    copies = FeatureSpace.of([train], (28, 28)).noisy(train[:8], 0.0, 16, seed=0)
    probes = [row for i in range(8) for row in (train[i], *copies[i * 16 : (i + 1) * 16])]
    by_print = Monitor(index=index, scales=scales)  # 784 values: fingerprints ("auto")
    by_distance = Monitor(Settings(similarity="knn"), index=index, scales=scales)
    for monitor in (by_print, by_distance):
        feed(monitor, [_image_query("prober", row, n) for n, row in enumerate(probes)])
        feed(monitor, [_image_query("user", row, n) for n, row in enumerate(fresh)])
    # every candidate's shifted copies form a burst around a training image
    assert by_print.keys["prober"].training_bursts == 8
    # pixel distance misses them: a shift moves an image as far as an unrelated one
    assert by_distance.keys["prober"].training_bursts <= 2
    # unrelated fresh images are not near copies of one another
    assert by_print.keys["user"].bursts == 0


def _image_query(key: str, row: np.ndarray, n: int) -> QueryRecord:
    return QueryRecord(START + n, key, "r", "m", row.tolist(), 1, "label-only", 200)


def test_simulated_traffic_keeps_its_clock() -> None:
    from miaudit.monitor.simulate import START, simulate, world

    traffic = simulate(world(2, members=300), benign_keys=20, seed=1, campaign_budget=50)
    times = [r.time for r in traffic.records]
    assert times == sorted(times)
    assert times[0] >= START and times[-1] < START + 2 * 86400  # one simulated day (and tails)


def _legacy_traffic() -> tuple[np.ndarray, list[QueryRecord]]:
    """Training records and 96 queries of one key: 24 records (half of them training
    records), each followed by three near copies (the traffic tests/monitor/data was made on)."""
    rng = np.random.default_rng(5)
    train = np.round(rng.normal(size=(40, 3)), 4)
    rows = [*train[:12], *np.round(rng.normal(size=(12, 3)), 4)]
    order = [rows[i] for i in rng.permutation(len(rows))]
    stream = [c for r in order for c in (r, *np.round(r + 0.05 * rng.normal(size=(3, 3)), 4))]
    records = []
    for n, row in enumerate(stream):
        p = 1 / (1 + np.exp(-row.sum()))
        output = [round(1 - p, 6), round(p, 6)]
        records.append(QueryRecord(START + 7 * n, "k", "r", "m", row.tolist(), output, "full", 200))
    return train, records


def test_a_state_saved_before_version_2_resumes_exactly() -> None:
    # a restarted gateway finds states saved by the previous version (one flat dictionary):
    # it resumes with the numbers the old code reached on the whole stream
    from pathlib import Path

    from miaudit.monitor import Scales

    saved = json.loads((Path(__file__).parent / "data" / "key_state_v1.json").read_text())
    train, records = _legacy_traffic()
    index = TrainingIndex.build(train.tolist(), SECRET, radius=None)  # as it was saved with
    settings = Settings(window=8, period=60)
    scales = Scales.of({"mean": [0.0] * 3, "scale": [1.0] * 3})
    runs = {}
    for name, state in (("restored", saved["state"]), ("whole", None)):
        monitor = Monitor(settings, index=index, scales=scales)
        if state is not None:
            assert "detectors" not in state  # the old layout
            monitor.restore({"k": state})
        feed(monitor, records[50:] if state is not None else records)
        runs[name] = monitor.keys["k"]
    # training-overlap is a mixture test now (it was a CUSUM): the restored state weighs the
    # distinct records the old one had counted, and ends where the new code ends
    changed = "training-overlap"
    for key in runs.values():
        for found, old in ((key.scores, saved["final_scores"]), (key.peaks, saved["final_peaks"])):
            assert {d: found[d] for d in old if d != changed} == {
                d: v for d, v in old.items() if d != changed
            }
            assert not any(found[d] for d in found if d not in old)  # detectors added since
    assert runs["restored"].state(changed) == runs["whole"].state(changed)
    assert runs["restored"].scores[changed] == runs["whole"].scores[changed]
    assert runs["whole"].state("near-duplicates").training_bursts > 0


def test_release_snapshot_and_restore(world) -> None:
    log, train, index = world
    thresholds = {"training-overlap": 3.0}
    monitor = Monitor(index=index, thresholds=thresholds, scales=_unit_scales())
    records = [log.query("a", row) for row in train[:20]]
    alerts = feed(monitor, records[:10])
    assert [a.detector for a in alerts] == ["training-overlap"]
    # a snapshot taken now and restored elsewhere: the key does not alert twice
    taken = json.loads(json.dumps(monitor.snapshot()))
    elsewhere = Monitor(index=index, thresholds=thresholds, scales=_unit_scales())
    upto = elsewhere.restore({k: data for k, (_, data) in taken.items()})
    assert upto == {"a": records[9].time} and feed(elsewhere, records[10:]) == []
    # released after review: the key starts afresh and may alert again
    monitor.release("a")
    assert "a" not in monitor.keys
    assert [a.key for a in feed(monitor, records[10:])] == ["a"]


def test_the_overlap_test_holds_its_level_and_grows_above_it() -> None:
    """Ville's bound for a key at the benign share p* itself (the worst such key): at most ε of
    keys ever reach log(1/ε) nats. 400 keys × 300 distinct records at p* = 5%, ε = 5%: the
    bound allows 20 keys; binomial spread (sd 4.4 keys) puts 30 beyond any honest run. A key at
    3 × p* gathers evidence without bound (about n·KL nats)."""
    from miaudit.monitor.detectors.training_overlap import log_bayes_factor as bf

    rng = np.random.default_rng(0)
    crossed = 0
    for _ in range(400):
        hits = np.cumsum(rng.random(300) < 0.05)
        scores = [bf(int(k), n + 1, 0.05) for n, k in enumerate(hits)]
        crossed += max(scores) >= math.log(1 / 0.05)
    assert crossed <= 30
    hits = int((rng.random(2000) < 0.15).sum())
    assert bf(hits, 2000, 0.05) > 60  # n·KL(0.15‖0.05) ≈ 92 nats, less the mixture's cost


def test_a_few_poisoned_baseline_keys_do_not_move_the_benign_share() -> None:
    """p* is a quantile of the baseline's keys' shares: three keys that queried only training
    records while the baseline was recorded (an attacker preparing the ground) leave it where
    300 ordinary keys put it."""
    from miaudit.monitor.detectors.training_overlap import benign_share

    rng = np.random.default_rng(1)
    trials = np.full(300, 60)
    hits = rng.binomial(60, 0.02, 300)
    clean = benign_share(hits, trials, cap=0.5)
    poisoned = benign_share(np.r_[hits, 60, 60, 60], np.r_[trials, 60, 60, 60], cap=0.5)
    assert 0.02 <= clean <= 0.06 and poisoned == pytest.approx(clean, abs=0.01)


def test_an_input_beyond_floating_point_is_no_record(world) -> None:
    _, _, index = world
    monitor = Monitor(index=index, scales=_unit_scales())
    huge = QueryRecord(START, "k", "r", "m", [10**400, 1, 2, 3, 4, 5], [0.5, 0.5], "full", 200)
    assert monitor.observe(huge) == [] and monitor.keys["k"].queries == 1
