"""Run folders and what is made from them: writing a run (`runs`), reading it back (`run_folder`), evaluating it
against the human data (`evaluation`), the report, its figures and its markdown tables (`markdown`)."""
