"""End to end in headless Chromium: an editor signs in to the admin, adds a bilingual hero
(the Arabic field is right to left) with a background image, moves it to the top, and the
public API serves it, the image with its variants; a non-image upload is refused on the form.

Needs `apt-get install -y chromium chromium-driver`; skipped with the reason when they are
absent, unless CI=true, where their absence fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (CHROMIUM and Path(CHROMEDRIVER).exists()):
        message = "headless Chromium is not installed (apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{message}; required with CI=true", pytrace=False)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


# The live server needs committed rows; serialized rollback puts back what the flush after
# a transactional test removes (content types, data migrations' rows) for the tests after.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_editor_adds_a_hero_and_the_site_serves_it(
    browser: Any, live_server: Any, django_user_model: Any, settings: Any, tmp_path: Path
) -> None:
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import Select, WebDriverWait

    settings.RATE_LIMIT_ENABLED = False
    django_user_model.objects.create_superuser(
        email="editor@example.com", password="correct horse battery", name="Editor"
    )
    from tessera.content import demo

    demo.load()

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("editor@example.com")
    browser.find_element(By.NAME, "password").send_keys("correct horse battery")
    submit = browser.find_element(By.CSS_SELECTOR, "input[type=submit]")
    submit.click()
    WebDriverWait(browser, 10).until(staleness_of(submit))

    not_an_image = tmp_path / "hero.png"
    not_an_image.write_bytes(b"%PDF-1.7 not a picture")
    picture = tmp_path / "open-day.jpg"
    Image.new("RGB", (1600, 800), "teal").save(picture, format="JPEG")

    browser.get(f"{live_server.url}/admin/content/hero/add/")
    arabic = browser.find_element(By.NAME, "title_ar")
    assert arabic.get_attribute("dir") == "rtl"
    browser.find_element(By.NAME, "title_en").send_keys("Open day on Saturday")
    arabic.send_keys("يوم مفتوح يوم السبت")
    browser.find_element(By.NAME, "image").send_keys(str(not_an_image))
    save = browser.find_element(By.NAME, "_save")
    save.click()
    WebDriverWait(browser, 10).until(staleness_of(save))
    assert "cannot be used as an image" in browser.find_element(By.CSS_SELECTOR, ".errorlist").text

    browser.find_element(By.NAME, "image").send_keys(str(picture))
    save = browser.find_element(By.NAME, "_save")
    save.click()
    WebDriverWait(browser, 10).until(staleness_of(save))
    assert "was added successfully" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text

    row = browser.find_element(By.XPATH, "//tr[.//a[text()='Open day on Saturday']]")
    row.find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("move_top")
    browser.find_element(By.NAME, "index").click()
    WebDriverWait(browser, 10).until(staleness_of(row))
    first_row = browser.find_element(By.CSS_SELECTOR, "#result_list tbody tr")
    assert "Open day on Saturday" in first_row.text
    thumbnail = first_row.find_element(By.CSS_SELECTOR, "img")
    assert thumbnail.get_attribute("src").endswith("/thumbnail.jpg")
    assert browser.execute_script("return arguments[0].naturalWidth", thumbnail) == 256

    with urllib.request.urlopen(f"{live_server.url}/api/website-data/heroes/?lang=ar") as reply:
        heroes = json.loads(reply.read())["data"]
    assert heroes[0]["title"] == "يوم مفتوح يوم السبت"
    image = heroes[0]["image"]
    assert (image["width"], image["height"]) == (1600, 800)
    with urllib.request.urlopen(live_server.url + image["variants"]["mediumWebp"]) as reply:
        assert reply.headers["Content-Type"] == "image/webp"
