"""Scenario files as tests of the rulebase: collection and checking (`collection`), legal
coverage (`coverage`), mutation testing of the rules (`mutations`), Hypothesis strategies
(`strategies`, needs the test extra) and the pytest plugin (`plugin`)."""
