"""Small Solara building blocks shared by the page's components: the error boundary, tabs, Markdown, figures."""

from __future__ import annotations

import html
import logging

import solara

from . import settings as S
from .session import describe_error
from .views import markdown_html

log = logging.getLogger("popsim.page")

CSS = """
.popsim-fig { max-width: 100%; height: auto; }
.popsim-md table { border-collapse: collapse; margin: 6px 0 12px 0; font-size: 13px; }
.popsim-md th, .popsim-md td { border: 1px solid #ddd; padding: 2px 7px; text-align: right; }
.popsim-md th { background: #f4f4f4; }
.popsim-md td:first-child, .popsim-md th:first-child { text-align: left; }
.popsim-controls .v-card { margin-bottom: 10px; }
.popsim-tabs { margin: 8px 0 12px 0; }
.popsim-tabs .v-btn { text-transform: none; }
"""


@solara.component
def Guard(component, *args):
    """An error boundary: a view that fails to render shows one line (the traceback goes to the log)."""
    exc, clear = solara.use_exception()

    def report():
        if exc is not None:
            log.error("a view failed to render", exc_info=exc)

    solara.use_effect(report, [exc])
    if exc is not None:
        with solara.Column():
            solara.Error(f"This view could not be shown: {describe_error(exc)}", classes=["popsim-message"])
            solara.Button("Try again", on_click=clear, outlined=True)
        return
    component(*args)


@solara.component
def TabBar(labels: list[str], value: solara.Reactive):
    """Tabs as toggle buttons; only the chosen tab's content is rendered."""
    with solara.Div(classes=["popsim-tabs"]):
        solara.ToggleButtonsSingle(value=value.value, values=list(labels), on_value=value.set, mandatory=True)


def hint(choice: str):
    if choice in S.LABELS:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(S.LABELS[choice]),
                    style="font-size: 12px; color: #666; margin: -20px 0 10px 14px")


def md(text: str, classes: tuple[str, ...] = ()):
    solara.HTML(tag="div", unsafe_innerHTML=markdown_html(text), classes=["popsim-md", *classes])


def img(png: bytes | None):
    if png:
        solara.Image(png, format="png", classes=["popsim-fig"])

def pick_columns(df, cols):
    return df[[c for c in cols if c in df.columns]]

@solara.component
def MarkdownWithFigures(parts: list):
    for kind, body in parts:
        if kind == "md":
            md(body)
        else:
            img(body[1])
