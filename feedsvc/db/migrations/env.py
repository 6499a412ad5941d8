"""Alembic environment: the engine comes from feedsvc, never from alembic.ini."""

from alembic import context

from feedsvc.db.tables import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch migrations rebuild tables (copy, drop, rename): with foreign keys on, the
        # drop would cascade into every table that refers to the rebuilt one. Set outside
        # a transaction, where SQLite honours it.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
