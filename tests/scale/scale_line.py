"""The flow the scale tests call: a menu, two collects (one secret), a lookup, retries.

``flow_text(tag)`` gives the same flow with ``tag`` in its prompts, so a test can tell by
ear which version answered ("version one" vs "version two").
"""
from __future__ import annotations

FLOW = """\
flow: scale-line
description: The line of the scale tests ({tag})
numbers: ["+15005550006"]
default: true
language: en-US
operator: {{digit: "0", phrases: [agent, a person], to: desk}}
retry: {{no_input: 2, no_match: 2, then: desk}}
start: main

nodes:
  main:
    menu:
      prompt: "Welcome to the scale line, {tag}. Press 1 for your balance."
      options:
        - {{keys: "1", say: [balance, my balance], go: account, label: balance}}
        - {{keys: "2", say: [goodbye], go: bye, label: goodbye}}
  account:
    collect:
      prompt: "Key in your eight digit account number."
      slot: {{name: account_number, kind: digits, length: 8}}
      go: pin
  pin:
    collect:
      prompt: "Now key in your four digit PIN."
      slot: {{name: pin, kind: digits, length: 4, secret: true}}
      go: check
  check:
    lookup:
      table:
        key: "{{account_number}}-{{pin}}"
        rows:
          "12345678-4321": {{balance: "42.50"}}
          "87654321-9999": {{balance: "7"}}
      verifies: true
      found: balance
      not_found: desk
  balance:
    say: "Account {{account_number}}, your balance is {{lookup.balance}} dollars, {tag}."
    go: more
  more:
    menu:
      prompt: "Press 1 to hear that again, or 2 to finish."
      options:
        - {{keys: "1", say: [again], go: balance, label: again}}
        - {{keys: "2", say: [finish, goodbye], go: bye, label: finish}}
  bye:
    hangup: "Goodbye from the scale line, {tag}."
  desk:
    transfer:
      to: ["+15005550010", "queue:support"]
      reason: "Caller asked for a person"
"""


def flow_text(tag: str = "version one") -> str:
    return FLOW.format(tag=tag)
