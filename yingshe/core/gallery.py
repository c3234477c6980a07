"""The gallery: an SQLite database (WAL mode) with one row per saved artwork.

Schema versions live in ``PRAGMA user_version`` and :data:`MIGRATIONS` upgrades any older file
in place. A row is inserted in the same transaction that writes the artwork file and commits
only after the file is renamed into place: a crash leaves at worst a file without a row, never a
row without a file. :meth:`Gallery.check` finds drift (missing or changed files) and repairs it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from yingshe.core import paths
from yingshe.core.errors import BadInput
from yingshe.core.fingerprint import sha256_file

#: Each entry upgrades the schema from version i to i+1.
MIGRATIONS: list[str] = [
    # 0 -> 1: the first schema
    """
    CREATE TABLE artworks (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        created   TEXT NOT NULL,
        mapping   TEXT NOT NULL,
        path      TEXT NOT NULL,
        sha256    TEXT NOT NULL,
        recipe    TEXT NOT NULL,
        record    TEXT NOT NULL,
        seconds   REAL
    );
    CREATE INDEX artworks_mapping ON artworks(mapping);
    """,
    # 1 -> 2: image size and seed as columns (filtering in the studio), input fingerprints
    """
    ALTER TABLE artworks ADD COLUMN width INTEGER;
    ALTER TABLE artworks ADD COLUMN height INTEGER;
    ALTER TABLE artworks ADD COLUMN seed INTEGER;
    ALTER TABLE artworks ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}';
    CREATE INDEX artworks_created ON artworks(created);
    UPDATE artworks SET seed = json_extract(recipe, '$.seed');
    """,
    # 2 -> 3: every medium is an artwork: what kind of file each row is, how long, how big
    """
    ALTER TABLE artworks ADD COLUMN kind TEXT NOT NULL DEFAULT 'image';
    ALTER TABLE artworks ADD COLUMN duration REAL;
    ALTER TABLE artworks ADD COLUMN bytes INTEGER;
    UPDATE artworks SET kind = CASE
        WHEN lower(path) LIKE '%.gif' OR lower(path) LIKE '%.mp4' THEN 'video'
        WHEN lower(path) LIKE '%.svg' THEN 'vector'
        ELSE 'image' END;
    CREATE INDEX artworks_kind ON artworks(kind);
    CREATE INDEX artworks_sha256 ON artworks(sha256);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass
class Row:
    id: int
    created: str
    mapping: str
    path: str
    sha256: str
    recipe: dict
    seconds: float | None
    width: int | None
    height: int | None
    seed: int | None
    kind: str = "image"
    duration: float | None = None
    bytes: int | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class Gallery:
    def __init__(self, db_path: str | Path):
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("PRAGMA foreign_keys=ON")
            self.migrate()
        except sqlite3.DatabaseError as e:
            raise BadInput(f"gallery database {str(self.path)!r} is unreadable: {e}") from None

    @classmethod
    def open(cls) -> "Gallery":
        return cls(paths.home() / "gallery.sqlite3")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------------ schema
    def version(self) -> int:
        return self.con.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        v = self.version()
        if v > SCHEMA_VERSION:
            raise BadInput(f"gallery {str(self.path)!r} has schema {v}, newer than this yingshe ({SCHEMA_VERSION}); upgrade yingshe")
        while v < SCHEMA_VERSION:
            self.con.execute("BEGIN IMMEDIATE")
            try:
                # executescript would commit the open transaction; run statements one by one.
                for stmt in (s.strip() for s in MIGRATIONS[v].split(";")):
                    if stmt:
                        self.con.execute(stmt)
                self.con.execute(f"PRAGMA user_version = {v + 1}")
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            v += 1

    # ------------------------------------------------------------------ writing
    def add(self, record: dict, path: Path, write: Callable[[], Path], *, kind: str = "image", width=None,
            height=None, duration=None) -> Path:
        """Insert the row, call ``write()`` (which puts the file in place atomically), commit."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            written = Path(write()).resolve()
            self.con.execute(
                "INSERT INTO artworks (created, mapping, path, sha256, recipe, record, seconds,"
                " width, height, seed, inputs, kind, duration, bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (record["created"], record["mapping"], str(written), sha256_file(written),
                 json.dumps(record["recipe"], ensure_ascii=False, sort_keys=True),
                 json.dumps(record, ensure_ascii=False, sort_keys=True), record.get("seconds"),
                 width, height, record["recipe"].get("seed"),
                 json.dumps(record.get("inputs", {}), ensure_ascii=False, sort_keys=True), kind,
                 None if duration is None else round(float(duration), 3), written.stat().st_size))
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return written

    # ------------------------------------------------------------------ reading
    _COLS = "id, created, mapping, path, sha256, recipe, seconds, width, height, seed, kind, duration, bytes"

    def _rows(self, sql: str, args=()) -> list[Row]:
        out = []
        for r in self.con.execute(sql, args):
            out.append(Row(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), *r[6:13]))
        return out

    @staticmethod
    def _where(mapping: str | None, kind: str | None) -> tuple[str, list]:
        conds, args = [], []
        if mapping:
            conds.append("mapping=?")
            args.append(mapping)
        if kind:
            conds.append("kind=?")
            args.append(kind)
        return (" AND ".join(conds), args)

    def list(self, *, mapping: str | None = None, kind: str | None = None, limit: int = 50,
             offset: int = 0) -> list[Row]:
        where, args = self._where(mapping, kind)
        sql = f"SELECT {self._COLS} FROM artworks" + (f" WHERE {where}" if where else "")
        return self._rows(sql + " ORDER BY id DESC LIMIT ? OFFSET ?", (*args, limit, offset))

    def get(self, id: int) -> tuple[Row, dict]:
        rows = self._rows(f"SELECT {self._COLS} FROM artworks WHERE id=?", (id,))
        if not rows:
            raise BadInput(f"no artwork #{id} in the gallery")
        record = json.loads(self.con.execute("SELECT record FROM artworks WHERE id=?", (id,)).fetchone()[0])
        return rows[0], record

    def search(self, text: str, *, mapping: str | None = None, kind: str | None = None,
               limit: int = 50) -> list[Row]:
        """Artworks whose path, mapping, recipe or inputs contain ``text`` (case-insensitive)."""
        like = f"%{_like_escape(text)}%"
        sql = (f"SELECT {self._COLS} FROM artworks WHERE ({_TEXT_MATCH})")
        args: list = [like, like, like, like]
        where, more = self._where(mapping, kind)
        if where:
            sql += " AND " + where
            args += more
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return self._rows(sql, args)

    def page(self, *, mapping: str | None = None, kind: str | None = None, text: str | None = None,
             after: str | None = None, under: str | None = None, limit: int = 48,
             offset: int = 0) -> tuple[list[Row], int]:
        """One page of rows, newest first, and the number of rows that match in all."""
        where, args = self._where(mapping, kind)
        conds = [where] if where else []
        if text:
            like = f"%{_like_escape(text)}%"
            conds.append(f"({_TEXT_MATCH})")
            args += [like] * 4
        if after:
            conds.append("created >= ?")
            args.append(after)
        if under:
            conds.append("path LIKE ? ESCAPE '\\'")
            args.append(_like_escape(under.rstrip("/")) + "/%")
        sql_where = (" WHERE " + " AND ".join(conds)) if conds else ""
        total = self.con.execute("SELECT COUNT(*) FROM artworks" + sql_where, args).fetchone()[0]
        rows = self._rows(f"SELECT {self._COLS} FROM artworks{sql_where} ORDER BY id DESC LIMIT ? OFFSET ?",
                          (*args, limit, offset))
        return rows, total

    def find(self, sha256: str) -> tuple[Row, dict] | None:
        """The newest row of the file with this sha256 (an artwork made here), with its record."""
        rows = self._rows(f"SELECT {self._COLS} FROM artworks WHERE sha256=? ORDER BY id DESC LIMIT 1", (sha256,))
        if not rows:
            return None
        record = json.loads(self.con.execute("SELECT record FROM artworks WHERE id=?", (rows[0].id,)).fetchone()[0])
        return rows[0], record

    def count(self, *, mapping: str | None = None, kind: str | None = None) -> int:
        where, args = self._where(mapping, kind)
        return self.con.execute("SELECT COUNT(*) FROM artworks" + (f" WHERE {where}" if where else ""),
                                args).fetchone()[0]

    # ------------------------------------------------------------------ drift
    def check(self, *, repair: bool = False) -> dict:
        """Find rows whose file is missing or changed; with ``repair``, drop missing rows and
        re-fingerprint changed files that still carry a yingshe record."""
        from yingshe.core.records import read_record

        missing, changed, fixed = [], [], []
        for row in self._rows(f"SELECT {self._COLS} FROM artworks ORDER BY id"):
            p = Path(row.path)
            if not p.is_file():
                missing.append(row.id)
            elif sha256_file(p) != row.sha256:
                changed.append(row.id)
        if repair:
            self.con.execute("BEGIN IMMEDIATE")
            try:
                for id in missing:
                    self.con.execute("DELETE FROM artworks WHERE id=?", (id,))
                for id in changed:
                    path = self.con.execute("SELECT path FROM artworks WHERE id=?", (id,)).fetchone()[0]
                    try:
                        read_record(path)
                    except BadInput:
                        self.con.execute("DELETE FROM artworks WHERE id=?", (id,))
                    else:
                        self.con.execute("UPDATE artworks SET sha256=? WHERE id=?", (sha256_file(path), id))
                    fixed.append(id)
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
        return {"rows": self.count(), "missing": missing, "changed": changed, "repaired": repair}


# the words a person searches for are matched as they are: % and _ are not wildcards
_TEXT_MATCH = " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in ("path", "mapping", "recipe", "inputs"))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
