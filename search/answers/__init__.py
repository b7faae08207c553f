"""The answer kinds, one module each, behind one protocol (:class:`kit.AnswerKind`) that
reads one context object (:class:`kit.AnswerContext`): the question analysed once, its
vector, the snapshot, the passages, the filters and the reader's language.

:class:`search.answer.Answerer` is the entry point; it picks the kind the question asks
for. ``tasks`` (what must agency X do), ``lead`` (who leads or is the focal point),
``signer`` (who signed), ``clause`` (a figure, date, person, place or sentence),
``document_set`` (a set of documents) and ``citing_set`` (the documents citing a number).
``model`` holds the answer's data, ``text`` the reading helpers the kinds share, ``kit``
the protocol, the context and the toolkit of index reads every kind uses.
"""
