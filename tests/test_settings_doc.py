"""The configuration reference and .env.example are what the generator writes from `Settings`."""

from pathlib import Path

import pytest

from contact_center import settings_doc
from contact_center.settings import Settings

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("path", [settings_doc.PAGE, settings_doc.ENV_EXAMPLE], ids=str)
def test_committed_file_is_what_the_generator_writes(path: Path) -> None:
    expected = settings_doc.outputs()[path]
    committed = (ROOT / path).read_text(encoding="utf-8")
    assert committed == expected, (
        f"{path} is stale: run `.venv/bin/python -m contact_center.settings_doc`"
    )


def test_every_setting_is_on_the_page_with_its_env_name_and_default() -> None:
    page = settings_doc.render_page()
    for name, field in Settings.model_fields.items():
        row = next(
            (line for line in page.splitlines() if line.startswith(f"| `{field.alias}`")),
            None,
        ) or next(line for line in page.splitlines() if f"`{name.upper()}`" in line)
        default = settings_doc.default_text(field)
        assert (f"`{default}`" if default else "unset") in row, name
        assert settings_doc.description(name, field) in row.replace("\\|", "|"), name


def test_a_setting_without_a_description_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    descriptions = dict(settings_doc.DESCRIPTIONS)
    del descriptions["otp_length"]
    monkeypatch.setattr(settings_doc, "DESCRIPTIONS", descriptions)
    with pytest.raises(ValueError, match="otp_length"):
        settings_doc.outputs()


def test_generator_writes_both_files(tmp_path: Path) -> None:
    settings_doc.main(tmp_path)
    for path, text in settings_doc.outputs().items():
        assert (tmp_path / path).read_text(encoding="utf-8") == text
