"""The ``bordersim`` command line: run, compare, sweep, validate, report and more.

Bad input is reported as ``file:line: field: what is expected`` with exit status 2, never a
traceback. Ctrl-C or SIGTERM ends a command within a second or two, with one line saying what
was kept and exit status 130.

The commands live in ``files``, ``runs``, ``events`` and ``studies``; how they report failures in
``errors``, their phase lines and progress bar in ``progress``, and interrupts in ``signals``.
Heavy libraries (pandas, matplotlib, pyarrow) are imported inside the commands that use them,
so ``bordersim --help`` and ``bordersim validate`` start quickly.
"""

from __future__ import annotations

from sim.cli import signals

# first of all, before the slower imports: a signal in the first instants must not kill the
# process unannounced (SIGTERM) or end it with a traceback
signals.install()

import click  # noqa: E402

from sim import __version__  # noqa: E402
from sim.cli.calibrate import calibrate_cmd  # noqa: E402
from sim.cli.errors import EXIT_INTERRUPTED, report_error  # noqa: E402
from sim.cli.events import animate_cmd, events_cmd  # noqa: E402
from sim.cli.files import report_cmd, schema, validate  # noqa: E402
from sim.cli.optimise import optimise_cmd  # noqa: E402
from sim.cli.runs import compare_cmd, run_cmd  # noqa: E402
from sim.cli.studies import sweep_cmd, validate_model_cmd, warmup_cmd  # noqa: E402


class _Group(click.Group):
    """Turns bad input, model failures and interrupts into clear messages, anywhere in a command."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        signals.command_started()
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            kept = ctx.meta.get("on_interrupt", "Nothing was written.")
            click.echo(f"interrupted. {kept() if callable(kept) else kept}", err=True)
            signals.quiet_from_now()
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as err:  # noqa: BLE001 - the last word: no traceback for a user
            ctx.exit(report_error(ctx, err))
        finally:
            signals.command_ended()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bordersim")
def main() -> None:
    """bordersim: simulate people and goods crossing a land border and compare control regimes."""


for _command in (
    validate,
    schema,
    run_cmd,
    compare_cmd,
    report_cmd,
    events_cmd,
    animate_cmd,
    sweep_cmd,
    warmup_cmd,
    validate_model_cmd,
    calibrate_cmd,
    optimise_cmd,
):
    main.add_command(_command)
