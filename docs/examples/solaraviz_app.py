"""popsim's result views in Mesa's SolaraViz: a page built the Mesa way (docs/app.md).

    solara run docs/examples/solaraviz_app.py --host 127.0.0.1

SolaraViz draws the controls (the model parameters below, then Reset, Play and Step) and places the
components; `popsim.page.mesa_components` gives popsim's result views as such components. It needs
Mesa's visualization extra (`pip install 'popsim[solaraviz]'`) and a SolaraViz that works with the
installed ipyvuetify (see docs/app.md: with Mesa 3.3 on solara's Vuetify 3 it does not).
"""

from mesa.visualization import SolaraViz

from popsim import PopulationModel
from popsim.page import settings as S
from popsim.page.mesa_components import Game, Results, Structure, ValueProfile

#: PopulationModel keywords: a dict with "type" is a control; a plain value is fixed
model_params = {
    "n_agents": {"type": "SliderInt", "value": 20, "label": "Number of agents", "min": 5, "max": 200, "step": 5},
    "population": {"type": "Select", "value": "DE_ESS9", "values": list(S.choices("population")), "label": "Population sample"},
    "strategy": {"type": "Select", "value": "h_np", "values": list(S.choices("strategy")), "label": "Strategy"},
    "scenario": {"type": "Select", "value": "ess21", "values": list(S.choices("scenario")), "label": "Scenario"},
    "policy": {"type": "Select", "value": "llm", "values": list(S.choices("policy")), "label": "Policy"},
    "prompt_style": {"type": "Select", "value": "value_prompt", "values": list(S.choices("prompt_style")), "label": "Prompt style"},
    "backend": {"type": "Select", "value": "embedded", "values": ["embedded", "scripted"], "label": "Backend"},
    "rng": {"type": "SliderInt", "value": 1, "label": "Seed", "min": 0, "max": 100, "step": 1},
    "cache_path": None,  # answers cached in memory for this page's models; a file path keeps them
}

model = PopulationModel(**{k: v["value"] if isinstance(v, dict) else v for k, v in model_params.items()})
# page 0: single views side by side; page 1: the whole result panel of popsim's own page, every view in tabs
page = SolaraViz(model, components=[ValueProfile, Structure, Game, (Results, 1)], model_params=model_params,
                 name="popsim in SolaraViz")
