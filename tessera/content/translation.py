"""django-modeltranslation: `<field>_en` and `<field>_ar` columns for each translated field."""

from modeltranslation.translator import TranslationOptions, register
from simple_history import register as register_history

from tessera.content.models import (
    FooterLink,
    Hero,
    HomePage,
    HomeSection,
    MenuItem,
    Partner,
    SeoEntry,
)


@register(MenuItem)
class MenuItemTranslation(TranslationOptions):
    fields = ("title", "url")


@register(Hero)
class HeroTranslation(TranslationOptions):
    fields = ("title", "subtitle", "button_text")


@register(Partner)
class PartnerTranslation(TranslationOptions):
    fields = ("name", "description")


@register(FooterLink)
class FooterLinkTranslation(TranslationOptions):
    fields = ("title", "group")


@register(SeoEntry)
class SeoEntryTranslation(TranslationOptions):
    fields = ("title", "description", "keywords")


@register(HomePage)
class HomePageTranslation(TranslationOptions):
    fields = ("title", "intro")


@register(HomeSection)
class HomeSectionTranslation(TranslationOptions):
    fields = ("title", "body")


# History is registered here, after the translation fields exist, so that the historical
# models carry `title_en`, `title_ar`… too (HistoricalRecords() on the model would be
# created before modeltranslation adds them).
for _model in (MenuItem, Hero, Partner, FooterLink, SeoEntry, HomePage, HomeSection):
    register_history(_model, app=__package__)
