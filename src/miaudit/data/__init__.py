"""Records: classifier records (:class:`RecordSet`) and texts (:class:`TextRecords`), their
readers, and every check made on them — validated once, here."""

from miaudit.data._checks import MIN_RECORDS, check_unique_ids
from miaudit.data.membership import MEMBER, NONMEMBER, POPULATION
from miaudit.data.readers import read_table
from miaudit.data.records import RecordSet
from miaudit.data.texts import TextRecords
from miaudit.data.validation import check_audit_sets, check_text_sets

__all__ = [
    "MEMBER",
    "MIN_RECORDS",
    "NONMEMBER",
    "POPULATION",
    "RecordSet",
    "TextRecords",
    "check_audit_sets",
    "check_text_sets",
    "check_unique_ids",
    "read_table",
]
