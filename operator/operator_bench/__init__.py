"""The bench: what the agent is practised, tested and measured on, not the agent itself.

    sites/            the practice shop, flight site and payment processor (code), their
                      templates and static files in sites/web/ (package data)
    suites/           evaluation suites (YAML, package data; `operator eval`)
    solutions/        scripted replies the suites name for `--planner scripted`
    demo/             `operator demo`'s job scripted, and the sign-up demo site of the tests
    demonstrations.py a person's demonstrations on the sites, to (re)learn the shipped skills
    testing/          the fake OpenAI server, script helpers, the pytest plugin for the sites

It ships in the same distribution as operator_agent. The agent's package loads it only
for the commands that are about the bench (`operator demo`, `operator sites`, `operator
eval` on the practice sites), never at import time.
"""
