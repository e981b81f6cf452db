"""Tables that keep every column: rich drops whole columns from a table wider than the console."""

from collections.abc import Callable, Iterable

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table

UNBOUNDED = 100_000


def new_table() -> Table:
    return Table(box=None, header_style="bold", pad_edge=False)


def print_table(
    console: Console, table: Table, narrow: Callable[[], Iterable[RenderableType]]
) -> None:
    """The table, whole. Where it is wider than the console: to a pipe or file at its own width
    (one line a row, for grep), on a terminal as `narrow` renders the rows instead."""
    natural = Measurement.get(console, console.options.update(max_width=UNBOUNDED), table)
    if natural.maximum <= console.width:
        console.print(table)
    elif not console.is_terminal:
        Console(file=console.file, width=natural.maximum).print(table)
    else:
        for renderable in narrow():
            console.print(renderable, soft_wrap=False)
