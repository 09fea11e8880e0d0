"""Alembic's entry point: runs the migrations online against the configured URL."""

from alembic import context

from plugin.store import connect, metadata

engine = connect(context.config.get_main_option("sqlalchemy.url"))
try:
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
