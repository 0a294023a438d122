"""Development tools of expansion-signals, kept out of the product's package.

`emulators`: local Salesforce and Slack servers speaking the real wire format
(tests, benchmarks, `expansion demo --with-emulators`); `demo_data`: the demo
data generator; `contract`: the source contract read from the dbt sources file.
"""
