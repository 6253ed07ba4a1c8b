"""Who is who in an audit: the one definition of the membership codes."""

from __future__ import annotations

#: A record of the training set, a record held out from it (audited), and a population record
#: (known to be outside the training set; used to calibrate, never scored in the report).
MEMBER, NONMEMBER, POPULATION = 1, 0, -1
