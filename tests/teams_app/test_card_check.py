"""assert_valid_card accepts what Teams renders and names the property at fault otherwise."""

import pytest

from tests.fakes.cards import assert_valid_card, card_errors

CARD = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "What surprised you?", "wrap": True, "weight": "Bolder"},
        {"type": "Input.Text", "id": "answer", "isMultiline": True, "maxLength": 3000},
    ],
    "actions": [{"type": "Action.Submit", "title": "Send", "data": {"action": "answer", "round": "r1"}}],
}


def test_a_teams_card_passes():
    assert_valid_card(CARD)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"version": "1.6"}, "/version: Teams renders Adaptive Cards up to 1.5"),
        ({"type": "MessageCard"}, "/type: expected 'AdaptiveCard'"),
        ({"body": [{"type": "TextBlock"}]}, "/body/0: 'text' is a required property"),
        ({"body": [{"type": "Input.Text"}]}, "/body/0: 'id' is a required property"),
        ({"actions": [{"type": "Action.OpenUrl", "title": "Open"}]}, "/actions/0: 'url' is a required property"),
        ({"body": [{"type": "TextBlock", "text": "x", "size": "huge"}]}, "/body/0/size: 'huge' is not one of"),
    ],
)
def test_a_broken_card_is_reported_at_the_right_place(change, expected):
    problems = card_errors({**CARD, **change})
    assert any(p.startswith(expected) for p in problems), problems
    with pytest.raises(AssertionError, match="Invalid Adaptive Card 1.5"):
        assert_valid_card({**CARD, **change})
