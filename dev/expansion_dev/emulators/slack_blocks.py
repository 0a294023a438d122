"""Block Kit validation with Slack's own error strings.

Errors read like Slack's: `must be less than 3001 characters
[json-pointer:/blocks/0/text/text]`. Only the block types and limits a
notification uses are checked in depth; other known types pass on shape.
"""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = 50
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
BLOCK_ID = 255
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
MARKDOWN_TEXT = 12000
TEXT_TYPES = ("plain_text", "mrkdwn")
KNOWN_TYPES = frozenset(
    {
        "section",
        "header",
        "divider",
        "context",
        "actions",
        "image",
        "rich_text",
        "input",
        "file",
        "video",
        "markdown",
        "call",
        "table",
    }
)


def _schema(pointer: str) -> str:
    return f"failed to match all allowed schemas [json-pointer:{pointer}]"


def _too_long(limit: int, pointer: str) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _too_many(limit: int, pointer: str) -> str:
    return f"no more than {limit} items allowed [json-pointer:{pointer}]"


def _text_object(
    obj: Any, pointer: str, limit: int, types: tuple[str, ...] = TEXT_TYPES
) -> list[str]:
    if (
        not isinstance(obj, dict)
        or obj.get("type") not in types
        or not isinstance(obj.get("text"), str)
    ):
        return [_schema(pointer)]
    text = obj["text"]
    if not text:
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    if len(text) > limit:
        return [_schema(pointer), _too_long(limit, f"{pointer}/text")]
    return []


def _section(block: dict[str, Any], at: str) -> list[str]:
    errors: list[str] = []
    if "text" not in block and "fields" not in block:
        return [_schema(at)]
    if "text" in block:
        errors += _text_object(block["text"], f"{at}/text", SECTION_TEXT)
    if "fields" in block:
        fields = block["fields"]
        if not isinstance(fields, list) or not fields:
            errors.append(_schema(f"{at}/fields"))
        elif len(fields) > SECTION_FIELDS:
            errors.append(_too_many(SECTION_FIELDS, f"{at}/fields"))
        else:
            for j, item in enumerate(fields):
                errors += _text_object(item, f"{at}/fields/{j}", FIELD_TEXT)
    accessory = block.get("accessory")
    if accessory is not None and (not isinstance(accessory, dict) or "type" not in accessory):
        errors.append(_schema(f"{at}/accessory"))
    return errors


def _header(block: dict[str, Any], at: str) -> list[str]:
    text = block.get("text")
    if (
        not isinstance(text, dict)
        or text.get("type") != "plain_text"
        or not isinstance(text.get("text"), str)
    ):
        return [_schema(f"{at}/text")]
    if len(text["text"]) > HEADER_TEXT:
        # The wording Slack uses for header blocks differs from sections.
        return [f"must be no longer than {HEADER_TEXT} characters [json-pointer:{at}/text/text]"]
    if not text["text"]:
        return [f"must be more than 0 characters [json-pointer:{at}/text/text]"]
    return []


def _context(block: dict[str, Any], at: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [_schema(f"{at}/elements")]
    if len(elements) > CONTEXT_ELEMENTS:
        return [_too_many(CONTEXT_ELEMENTS, f"{at}/elements")]
    errors: list[str] = []
    for j, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") == "image":
            if not element.get("image_url") or not element.get("alt_text"):
                errors.append(_schema(f"{at}/elements/{j}"))
        else:
            errors += _text_object(element, f"{at}/elements/{j}", SECTION_TEXT)
    return errors


def _actions(block: dict[str, Any], at: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [_schema(f"{at}/elements")]
    if len(elements) > ACTIONS_ELEMENTS:
        return [_too_many(ACTIONS_ELEMENTS, f"{at}/elements")]
    errors: list[str] = []
    for j, element in enumerate(elements):
        if not isinstance(element, dict) or "type" not in element:
            errors.append(_schema(f"{at}/elements/{j}"))
        elif element["type"] == "button":
            errors += _text_object(
                element.get("text"), f"{at}/elements/{j}/text", BUTTON_TEXT, ("plain_text",)
            )
    return errors


def _image(block: dict[str, Any], at: str) -> list[str]:
    if not block.get("alt_text") or not (block.get("image_url") or block.get("slack_file")):
        return [_schema(at)]
    return []


def _markdown(block: dict[str, Any], at: str) -> list[str]:
    text = block.get("text")
    if not isinstance(text, str):
        return [_schema(at)]
    return [_too_long(MARKDOWN_TEXT, f"{at}/text")] if len(text) > MARKDOWN_TEXT else []


CHECKS = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "image": _image,
    "markdown": _markdown,
}


def validate_blocks(blocks: list[Any]) -> list[str]:
    """Every problem found, each with its json-pointer; [] when the blocks are valid."""
    if len(blocks) > MAX_BLOCKS:
        return [_too_many(MAX_BLOCKS, "/blocks")]
    errors: list[str] = []
    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        if not isinstance(block, dict) or block.get("type") not in KNOWN_TYPES:
            errors.append(_schema(at))
            continue
        block_id = block.get("block_id")
        if block_id is not None and (not isinstance(block_id, str) or len(block_id) > BLOCK_ID):
            errors.append(_too_long(BLOCK_ID, f"{at}/block_id"))
        check = CHECKS.get(block["type"])
        if check is not None:
            errors += check(block, at)
    return errors
