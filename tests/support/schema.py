"""A stable text dump of the schema from the system catalogs (same on PostgreSQL 13-18)."""

from __future__ import annotations

from typing import Any

_COLUMNS = """
SELECT c.relname AS table_name, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS default_expr
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE n.nspname = 'public' AND c.relkind = 'r'
 ORDER BY c.relname, a.attnum
"""

_CONSTRAINTS = """
SELECT c.relname AS table_name, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f', 'c')
 ORDER BY c.relname, con.conname
"""

_INDEXES = """
SELECT tablename, indexname, indexdef FROM pg_indexes
 WHERE schemaname = 'public' ORDER BY tablename, indexname
"""

_ENUMS = """
SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
  FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = 'public' GROUP BY t.typname ORDER BY t.typname
"""


async def dump_schema(conn: Any) -> str:
    lines: list[str] = []
    for row in await conn.fetch(_ENUMS):
        lines.append(f"enum {row['typname']}: {', '.join(row['labels'])}")
    current = None
    for row in await conn.fetch(_COLUMNS):
        if row["table_name"] != current:
            current = row["table_name"]
            lines.append(f"table {current}")
        nullable = "NOT NULL" if row["not_null"] else "null"
        default = f" DEFAULT {row['default_expr']}" if row["default_expr"] else ""
        lines.append(f"  column {row['column_name']} {row['type']} {nullable}{default}")
    for row in await conn.fetch(_CONSTRAINTS):
        lines.append(f"constraint {row['table_name']}.{row['name']}: {row['definition']}")
    for row in await conn.fetch(_INDEXES):
        lines.append(f"index {row['indexname']}: {row['indexdef']}")
    return "\n".join(lines) + "\n"
