"""The files catalogue: each owner's uploaded files, with their notes and whether the API still has them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lib.errors import NotAllowedError
from lib.storage.db import files
from lib.storage.records import FileRecord, TableProfile
from lib.storage.scope import Scope


class Catalogue(Scope):
    """Reads and writes of the owner's catalogue entries."""

    def add_file(self, record: FileRecord) -> None:
        """Insert or replace a catalogue entry of this owner."""
        values = {**record.row(), "owner": self.owner}
        with self._begin() as conn:
            taken = conn.execute(sa.select(files.c.owner).where(files.c.id == record.id)).first()
            if taken and taken.owner != self.owner:
                raise NotAllowedError(f"The file {record.id} belongs to someone else.")
            stmt = self._insert(files).values(values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))

    def set_file_profile(self, file_id: str, profile: TableProfile) -> bool:
        """Keep a table's profile with one of this owner's files (made when it was uploaded, or again later);
        returns whether the file is theirs."""
        with self._begin() as conn:
            return conn.execute(self._update_own(file_id).values(profile=profile.to_json())).rowcount > 0

    def set_file_notes(self, file_id: str, notes: str) -> bool:
        """Keep the analyst's notes about one of their files (column meanings, units, rules); sent with every
        analysis. Returns whether the file is theirs."""
        with self._begin() as conn:
            return conn.execute(self._update_own(file_id).values(notes=notes.strip())).rowcount > 0

    def files(self) -> list[FileRecord]:
        """This owner's catalogue, newest first."""
        return self._files()

    def file(self, file_id: str) -> FileRecord | None:
        """One catalogue entry of this owner."""
        return next(iter(self._files(files.c.id == file_id)), None)

    def file_names(self, file_ids: list[str]) -> dict[str, str]:
        """File id → file name, for those of the ids in this owner's catalogue."""
        if not file_ids:
            return {}
        query = sa.select(files.c.id, files.c.filename).where(files.c.owner == self.owner, files.c.id.in_(file_ids))
        with self._begin() as conn:
            return {r.id: r.filename for r in conn.execute(query)}

    def file_by_hash(self, sha256: str) -> FileRecord | None:
        """A file of this owner already uploaded with the same content, if any."""
        return next(iter(self._files(files.c.sha256 == sha256, files.c.remote_missing == 0)), None)

    def _files(self, *where: Any) -> list[FileRecord]:
        query = sa.select(files).where(files.c.owner == self.owner, *where).order_by(files.c.created_at.desc())
        with self._begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [FileRecord.from_row(r) for r in rows]

    def remove_file(self, file_id: str) -> bool:
        """Drop a catalogue entry of this owner; returns whether there was one."""
        with self._begin() as conn:
            return conn.execute(files.delete().where(files.c.id == file_id, files.c.owner == self.owner)).rowcount > 0

    def flag_remote_missing(self, file_id: str) -> bool:
        """Flag one of this owner's catalogue entries as gone from the API; returns whether it is theirs."""
        with self._begin() as conn:
            return conn.execute(self._update_own(file_id).values(remote_missing=1)).rowcount > 0

    def _update_own(self, file_id: str) -> Any:
        return files.update().where(files.c.id == file_id, files.c.owner == self.owner)

    def mark_remote(self, present_ids: set[str]) -> None:
        """Flag this owner's catalogue entries the remote list no longer has."""
        present = list(present_ids)
        with self._begin() as conn:
            mine = files.c.owner == self.owner
            conn.execute(files.update().where(mine, files.c.id.in_(present)).values(remote_missing=0))
            conn.execute(files.update().where(mine, files.c.id.not_in(present)).values(remote_missing=1))
