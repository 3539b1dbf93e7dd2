"""Generated files kept from the owner's runs, with the question that made them: what the gallery lists."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from lib.storage.db import artifacts, runs, turns
from lib.storage.records import Artifact, ArtifactFilter
from lib.storage.scope import Scope


class Artifacts(Scope):
    """Reads and writes of the artifact rows of the owner's runs."""

    def add_artifact(
        self,
        run_id: str,
        turn_idx: int,
        file_id: str,
        filename: str,
        mime_type: str,
        size_bytes: int,
        path: str,
        tool_use_id: str,
    ) -> bool:
        """Record a downloaded generated file of one of this owner's runs; returns whether the run is theirs."""
        values = {
            "run_id": run_id,
            "turn_idx": turn_idx,
            "file_id": file_id,
            "filename": filename,
            "mime_type": mime_type,
            "size_bytes": size_bytes,
            "path": path,
            "created_at": time.time(),
            "tool_use_id": tool_use_id,
        }
        with self._begin() as conn:
            if not self._owned(conn, run_id):
                return False
            stmt = self._insert(artifacts).values(values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["run_id", "file_id"], set_=values))
        return True

    def _artifact_query(self, *where: Any) -> Any:
        joined = artifacts.join(runs, runs.c.id == artifacts.c.run_id).outerjoin(
            turns, sa.and_(turns.c.run_id == artifacts.c.run_id, turns.c.idx == artifacts.c.turn_idx)
        )
        question = sa.func.coalesce(turns.c.question, runs.c.title).label("question")
        return sa.select(artifacts, question).select_from(joined).where(runs.c.owner == self.owner, *where)

    def artifacts(self, flt: ArtifactFilter = ArtifactFilter()) -> tuple[list[Artifact], int]:
        """This owner's artifacts matching a filter, newest first, and how many match in all."""
        where: list[Any] = []
        if flt.run_id:
            where.append(artifacts.c.run_id == flt.run_id)
        if flt.kind == "image":
            where.append(artifacts.c.mime_type.like("image/%"))
        elif flt.kind == "other":
            where.append(artifacts.c.mime_type.not_like("image/%"))
        if flt.since is not None:
            where.append(artifacts.c.created_at >= flt.since)
        if flt.until is not None:
            where.append(artifacts.c.created_at < flt.until)
        for word in flt.words.split():
            pattern = f"%{word}%"
            where.append(
                sa.or_(
                    turns.c.question.ilike(pattern),
                    runs.c.title.ilike(pattern),
                    runs.c.name.ilike(pattern),
                    artifacts.c.filename.ilike(pattern),
                )
            )
        query = self._artifact_query(*where)
        with self._begin() as conn:
            total = int(conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar() or 0)
            page = query.order_by(artifacts.c.created_at.desc(), artifacts.c.id.desc()).offset(flt.offset)
            if flt.limit >= 0:  # a negative limit means all of them (PostgreSQL refuses LIMIT -1)
                page = page.limit(flt.limit)
            rows = conn.execute(page).mappings().all()
        return [Artifact(**r) for r in rows], total

    def artifact(self, artifact_id: int) -> Artifact | None:
        """One of this owner's artifacts by its row id."""
        with self._begin() as conn:
            row = conn.execute(self._artifact_query(artifacts.c.id == artifact_id)).mappings().first()
        return Artifact(**row) if row else None

    def generated_file_ids(self, file_ids: Iterable[str]) -> set[str]:
        """Which of these file ids this owner's runs generated (and kept as artifacts)."""
        wanted = sorted(set(file_ids))
        mine = sa.select(runs.c.id).where(runs.c.owner == self.owner)
        found: set[str] = set()
        with self._begin() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = sa.select(artifacts.c.file_id).where(
                    artifacts.c.file_id.in_(chunk), artifacts.c.run_id.in_(mine)
                )
                found.update(conn.execute(query).scalars())
        return found

    def forget_artifact(self, artifact_id: int) -> bool:
        """Forget one of this owner's artifact rows; returns whether there was one."""
        mine = sa.select(runs.c.id).where(runs.c.owner == self.owner)
        with self._begin() as conn:
            gone = conn.execute(artifacts.delete().where(artifacts.c.id == artifact_id, artifacts.c.run_id.in_(mine)))
            return gone.rowcount > 0
