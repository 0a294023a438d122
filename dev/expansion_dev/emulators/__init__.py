"""Local Salesforce and Slack servers that speak the real wire format.

The sync's tests, benchmarks and demo drive the real simple-salesforce and
slack-sdk clients against these servers on 127.0.0.1; their behaviour follows
Salesforce's REST and Bulk API 2.0 and Slack's Web API documentation.

* `salesforce.SalesforceEmulator`: HTTPS (test CA), sObject REST, SOQL subset,
  sObject Collections, Bulk API 2.0 ingest, limits, validation by `schema`.
* `slack.SlackEmulator`: HTTP Web API: chat.postMessage, users.lookupByEmail,
  conversations.open/history/replies, auth.test.
* `faults`: what can be injected into either (also over `POST /__emulator/faults`).
* `clients`: start helpers and ready clients; `fixtures`: the pytest fixtures.
* `serve`: both servers in one process (`python -m expansion_dev.emulators`).

Nothing is imported here, so importing one module does not load both clients.
"""
