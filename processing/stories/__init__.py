"""Stories: reports of the same statement or event across outlets and languages (issue 17).

``features`` reduces a document to language-neutral keys (people, concepts of the
bilingual lexicon, transliterated names, numbers, dates) plus its own-language
terms and quotes; ``linking`` scores two documents and says why; ``assign`` puts
each arriving document into a story of ``<prefix>-stories`` (``storyindex``);
``amplification`` reads a story's origin and the chain of outlets that carried it.
"""
