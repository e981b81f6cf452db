"""`agent-runtime`: serve, migrate, and run the whole product on one machine; run agents and
look after their runs and approvals (`run`, `chat`, `runs`, `cancel`, `approvals`, `approve`,
`reject`), their aliases and the tenant's schedules (`aliases`, `schedules`)."""

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel

from cli import approval_commands, release_commands, runs_commands
from cli.api_access import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from cli.chat_command import chat
from cli.help_format import Command, Group
from cli.run_command import run
from cli.supervisor import Child, StopRequestedError, Supervisor, raise_on_sigterm
from core.settings import DEFAULT_DATA_DIR

app = typer.Typer(
    cls=Group,
    no_args_is_help=True,
    help="Agent Runtime: durable AI agents.\n\n"
    "Exit codes, for every command: 0 success; 1 a failure (a run that did not succeed, an API "
    "that failed or refused); 2 a usage error (a bad argument, or an id or name that does not "
    "exist); 130 Ctrl-C. Each command's --help says what they mean for it.",
)
console = Console()
RUNS, SERVING = "Agents, runs and approvals", "The product on this machine"
app.command("run", cls=Command, rich_help_panel=RUNS)(run)
app.command("chat", cls=Command, rich_help_panel=RUNS)(chat)
runs_commands.register(app, RUNS)
approval_commands.register(app, RUNS)
release_commands.register(app, RUNS)

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="AGENT_RUNTIME_DATA_DIR",
        metavar="DIR",
        help="Where the embedded default keeps everything it writes.",
    ),
]
Port = Annotated[int, typer.Option(metavar="PORT", help="Port to bind.")]
Host = Annotated[str, typer.Option(metavar="HOST", help="Interface to bind.")]


def _use_data_dir(data_dir: Path) -> Path:
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # Children and Settings read it from the environment, like every other setting.
    os.environ["AGENT_RUNTIME_DATA_DIR"] = str(data_dir)
    return data_dir


@app.command(cls=Command, rich_help_panel=SERVING)
def migrate(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Upgrade the database (DATABASE_URL, or the embedded SQLite file) to the latest schema.

    Exit code: 0 the schema is the latest; 1 the upgrade failed.
    """
    from backend.settings import Settings
    from core.migrate import upgrade_from_settings

    _use_data_dir(data_dir)
    upgrade_from_settings(Settings())
    console.print("[green]database is at the latest schema[/]")


@app.command("admin-key", cls=Command, rich_help_panel=SERVING)
def admin_key(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Print the platform admin API key, creating it (and the `default` tenant) if needed.

    Exit code: 0 printed; 1 the database could not be read or written.
    """
    from backend.services.bootstrap import ensure_admin_key
    from backend.settings import Settings
    from core.db import make_engine

    _use_data_dir(data_dir)
    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        print(ensure_admin_key(engine, settings.admin_key_file))
    finally:
        engine.dispose()


@app.command(cls=Command, rich_help_panel=SERVING)
def api(
    host: Host = "127.0.0.1",
    port: Port = 8002,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Serve the control plane's REST API.

    Exit code: 0 stopped with Ctrl-C or SIGTERM; 1 it could not serve (e.g. the port is taken).
    """
    import uvicorn

    def stopped(_signum: int, _frame: FrameType | None) -> None:
        raise typer.Exit(EXIT_OK)

    _use_data_dir(data_dir)
    # Uvicorn shuts down gracefully on SIGTERM, then raises the signal again to end the process
    # by it: that ending is the one asked for, so it exits 0, as on Ctrl-C.
    signal.signal(signal.SIGTERM, stopped)
    uvicorn.run(
        "backend.main:serve",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
    )


@app.command(cls=Command, rich_help_panel=SERVING)
def worker(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Run one worker against TEMPORAL_ADDRESS (start more to scale out).

    Exit code: 0 stopped with Ctrl-C or SIGTERM (steps under way finish first); 1 it failed.
    """
    from worker.main import main as run_worker

    _use_data_dir(data_dir)
    run_worker()


def _workbench_command(port: int, api_url: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", "ui", "--port", str(port), "--api-url", api_url]


@app.command(cls=Command, rich_help_panel=SERVING)
def ui(
    port: Annotated[
        int, typer.Option(metavar="PORT", help="Port of the workbench (page, websocket).")
    ] = 3000,
    api_url: Annotated[
        str, typer.Option(metavar="URL", help="The REST API the workbench talks to.")
    ] = "http://127.0.0.1:8002",
    host: Host = "127.0.0.1",
    build_only: Annotated[
        bool, typer.Option("--build-only", help="Build the frontend if needed, then exit.")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Serve the workbench, the web UI (built once, then reused until its sources change).

    Exit code: 0 stopped with Ctrl-C or SIGTERM (or built, with --build-only); 1 the build
    failed; 2 the port is taken.
    """
    from cli import ui as workbench
    from cli.temporal_server import port_in_use

    if not build_only and port_in_use(port):
        console.print(f"[red]Port {port} is taken: pass --port.[/]")
        raise typer.Exit(EXIT_USAGE)
    try:
        if not workbench.build_is_current():
            console.print("building the workbench frontend (once; reused until app/ changes)")
            workbench.build()
    except workbench.BuildError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_FAILED) from None
    if build_only:
        return
    console.print(f"Workbench   http://{host}:{port}   (API {api_url})")
    workbench.serve(host, port, api_url, _use_data_dir(data_dir))


def _wait_answering(url: str, supervisor: Supervisor, timeout: float) -> None:
    """Until `url` answers 200, or a child dies (the supervisor reports it), or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.process is not None and c.process.poll() is not None for c in supervisor.children):
            return
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)


@app.command(cls=Command, rich_help_panel=SERVING)
def dev(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    api_port: Annotated[int, typer.Option(metavar="PORT", help="Port of the REST API.")] = 8002,
    temporal_port: Annotated[
        int,
        typer.Option(
            metavar="PORT", help="Port of the embedded Temporal server (unless TEMPORAL_ADDRESS)."
        ),
    ] = 7233,
    no_ui: Annotated[bool, typer.Option("--no-ui", help="Do not start the workbench.")] = False,
    ui_port: Annotated[
        int, typer.Option(metavar="PORT", help="Port of the workbench (the web UI).")
    ] = 3000,
) -> None:
    """Run the whole product on this machine: engine, migrations, API, a worker, the workbench.

    Exit code: 0 stopped with Ctrl-C or SIGTERM once up; 1 a part of it failed (the message
    names it); 2 a port is taken; 130 Ctrl-C before it was up.
    """
    from backend.services.bootstrap import ensure_admin_key, ensure_default_tenant, seed_demo_agents
    from backend.services.mcp_pinning import Reach
    from backend.settings import Settings
    from cli.temporal_server import dev_server_command, port_in_use, wait_for_port
    from core.db import make_engine
    from core.migrate import upgrade_from_settings

    data_dir = _use_data_dir(data_dir)
    # On one's own machine, MCP servers over stdio may start (the demo's does): the API and
    # the worker inherit this, unless MCP_ALLOW_STDIO says otherwise.
    os.environ.setdefault("MCP_ALLOW_STDIO", "true")
    settings = Settings()
    supervisor = Supervisor(console)
    raise_on_sigterm()
    try:
        if not no_ui and port_in_use(ui_port):
            console.print(f"[red]Port {ui_port} is taken. Pass --ui-port, or --no-ui.[/]")
            raise typer.Exit(EXIT_USAGE)
        temporal_address = settings.temporal_address
        if not temporal_address:
            if port_in_use(temporal_port):
                console.print(
                    f"[red]Port {temporal_port} is taken. Pass --temporal-port, or set "
                    "TEMPORAL_ADDRESS to use a Temporal server that is already running.[/]"
                )
                raise typer.Exit(EXIT_USAGE)
            # Children start outside spinners: the spinner's thread must not be forked with them.
            supervisor.start(Child("temporal", dev_server_command(data_dir, temporal_port)))
            with console.status("starting the durable engine (Temporal dev server)"):
                wait_for_port(temporal_port)
            temporal_address = f"127.0.0.1:{temporal_port}"
        with console.status("migrating the database"):
            upgrade_from_settings(settings)
        engine = make_engine(settings.resolved_database_url)
        try:
            tenant, first_start = ensure_default_tenant(engine)
            if first_start:
                reach = Reach(settings.tool_allow_private_networks, settings.mcp_allow_stdio)
                seed_demo_agents(engine, tenant, reach)
            key = ensure_admin_key(engine, settings.admin_key_file)
        finally:
            engine.dispose()

        children_env = {"TEMPORAL_ADDRESS": temporal_address}
        supervisor.start(
            Child(
                "api",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "backend.main:serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(api_port),
                    "--no-access-log",
                ],
                children_env,
            )
        )
        supervisor.start(Child("worker", [sys.executable, "-m", "worker"], children_env))
        api_url = f"http://127.0.0.1:{api_port}"
        ui_url = f"http://127.0.0.1:{ui_port}"
        if not no_ui:
            supervisor.start(Child("workbench", _workbench_command(ui_port, api_url)))
        with console.status("starting the API and a worker"):
            _wait_answering(f"{api_url}/readyz", supervisor, timeout=60)
        if not no_ui:
            with console.status("starting the workbench (its very first start builds it)"):
                _wait_answering(f"{ui_url}/ping", supervisor, timeout=300)
        console.print(
            Panel.fit(
                (
                    ""
                    if no_ui
                    else f"Workbench   {ui_url}   "
                    + ("(sign in with OIDC)" if settings.oidc_issuer else "(as the local admin)")
                    + "\n"
                )
                + f"API         {api_url}   (OpenAPI docs: {api_url}/docs)\n"
                f"Temporal    {temporal_address}\n"
                f"Data dir    {data_dir}\n"
                f"Admin key   {key}\n"
                f"            (also in {settings.admin_key_file})",
                title="Agent Runtime is up",
                border_style="green",
            )
        )
        console.print(f"Try:  export AGENT_RUNTIME_TOKEN=$(cat {settings.admin_key_file})")
        auth = 'curl -H "Authorization: Bearer $AGENT_RUNTIME_TOKEN"'
        console.print(f"      {auth} {api_url}/v1/agents")
    except StopRequestedError:
        supervisor.stop_all()
        raise typer.Exit(EXIT_OK) from None
    except BaseException:
        supervisor.stop_all()
        raise
    # The supervisor has said which part died and with what code.
    raise typer.Exit(EXIT_FAILED if supervisor.wait() else EXIT_OK)


@app.command(cls=Command, rich_help_panel=SERVING)
def notebook(
    port: Annotated[int, typer.Option(metavar="PORT", help="Port of the Jupyter server.")] = 8888,
    api_url: Annotated[
        str,
        typer.Option(
            envvar="AGENT_RUNTIME_URL", metavar="URL", help="The REST API the notebooks use."
        ),
    ] = "http://127.0.0.1:8002",
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Open no browser.")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Start Jupyter on 127.0.0.1 in notebooks/, its kernels connected to the API.

    Their token is AGENT_RUNTIME_TOKEN, or else the platform admin key of the data dir.

    Exit code: 0 stopped with Ctrl-C; otherwise Jupyter's own (this command becomes the server).
    """
    import secrets

    notebooks_dir = Path(__file__).resolve().parent.parent / "notebooks"
    env = {**os.environ, "AGENT_RUNTIME_URL": api_url}
    key_file = data_dir.resolve() / "admin.key"
    if not env.get("AGENT_RUNTIME_TOKEN") and key_file.exists():
        env["AGENT_RUNTIME_TOKEN"] = key_file.read_text().strip()
    if not env.get("AGENT_RUNTIME_TOKEN"):
        console.print(f"[yellow]No AGENT_RUNTIME_TOKEN and no {key_file}: the API will refuse.[/]")
    # Kernels import `notebooks` and `client` from here, whatever their working directory.
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(notebooks_dir.parent), env.get("PYTHONPATH")])
    )
    # The token goes in the environment: other local users can read a command line.
    env["JUPYTER_TOKEN"] = env.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",  # another port would not be the URL printed below
        f"--ServerApp.root_dir={notebooks_dir}",
    ]
    if no_browser:
        command.append("--no-browser")
    if os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses to run as root without it
    print(f"Jupyter     http://127.0.0.1:{port}/?token={env['JUPYTER_TOKEN']}", flush=True)
    print(f"API         {api_url}\nNotebooks   {notebooks_dir}", flush=True)
    # Become the server: its PID is this one, so Ctrl-C and SIGTERM reach Jupyter itself.
    os.execve(sys.executable, command, env)  # noqa: S606  (a fixed argv, no shell)


if __name__ == "__main__":
    app()
