"""The website document as OpenAPI describes it. A translated text is a string when a
language was asked for, otherwise `{"en": …, "ar": …}`."""

from __future__ import annotations

from pydantic import Field

from tessera.core.api.schemas import CamelSchema


class Translated(CamelSchema):
    en: str
    ar: str


Text = str | Translated


class ImageVariantsOut(CamelSchema):
    thumbnail: str | None = Field(description="At most 256 px on the longer side.")
    medium: str | None = Field(description="At most 1024 px on the longer side.")
    thumbnail_webp: str | None
    medium_webp: str | None


class ImageOut(CamelSchema):
    """A public image and its variants; null until the image has been processed."""

    url: str
    width: int | None
    height: int | None
    variants: ImageVariantsOut


class MenuItemOut(CamelSchema):
    id: str
    title: Text
    url: Text
    parent_id: str | None
    open_in_new_tab: bool
    order: int


class HeroOut(CamelSchema):
    id: str
    title: Text
    subtitle: Text
    button_text: Text
    button_url: str
    image_url: str | None
    image: ImageOut | None
    order: int


class PartnerOut(CamelSchema):
    id: str
    name: Text
    description: Text
    url: str
    logo_url: str | None
    logo: ImageOut | None
    order: int


class FooterLinkOut(CamelSchema):
    id: str
    title: Text
    group: Text
    url: str
    order: int


class SeoOut(CamelSchema):
    page: str
    title: Text
    description: Text
    keywords: Text
    image_url: str | None
    image: ImageOut | None


class HomeSectionOut(CamelSchema):
    id: str
    kind: str
    title: Text
    body: Text
    image_url: str | None
    image: ImageOut | None
    order: int


class HomePageOut(CamelSchema):
    id: str
    title: Text
    intro: Text
    sections: list[HomeSectionOut]


class WebsiteDataOut(CamelSchema):
    """The sections asked for (all of them by default)."""

    menu_items: list[MenuItemOut] | None = None
    heroes: list[HeroOut] | None = None
    partners: list[PartnerOut] | None = None
    footer_links: list[FooterLinkOut] | None = None
    seo: list[SeoOut] | None = None
    home_page: HomePageOut | None = None


WebsiteSectionOut = (
    list[MenuItemOut]
    | list[HeroOut]
    | list[PartnerOut]
    | list[FooterLinkOut]
    | list[SeoOut]
    | HomePageOut
    | None
)


class UpdateRedisOut(CamelSchema):
    version: str = Field(description="The new ETag of the whole document.")
    size_bytes: int = Field(description="Size of the whole bilingual document.")
    sizes: dict[str, int] = Field(description="Size of each variant: all, en, ar.")
    built_at: str
