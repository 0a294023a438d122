"""`python -m expansion_dev.emulators`: run the local Salesforce and Slack emulators."""

from __future__ import annotations

import argparse

from expansion_dev.emulators.serve import DEFAULT_STATE_DIR, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m expansion_dev.emulators",
        description="Run local Salesforce (HTTPS) and Slack (HTTP) emulators until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--salesforce-port", type=int, default=8443)
    parser.add_argument("--slack-port", type=int, default=8444)
    parser.add_argument(
        "--state-dir",
        default=DEFAULT_STATE_DIR,
        help="where the CA bundle, env.sh and the records/messages on exit go",
    )
    args = parser.parse_args(argv)
    serve(args.host, args.salesforce_port, args.slack_port, args.state_dir)


if __name__ == "__main__":
    main()
