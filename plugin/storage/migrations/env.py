"""Alembic's entry point: runs the migrations online, on the connection `upgrade` hands over
(`config.attributes["connection"]`), else against the configured URL."""

from alembic import context

from plugin.storage.schema import connect, metadata


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = connect(context.config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            run(connection)
    finally:
        engine.dispose()
