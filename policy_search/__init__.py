"""The top of the project: what belongs to no layer.

``settings`` is the one settings object, read from ``POLICY_SEARCH_*`` environment variables
for every layer above ``index`` (lower layers get their values passed in); ``cli`` is the
entry module, the only one that imports every layer and the evaluation harnesses.
"""
