"""Every store backend passes the one store contract (tests/index/store_contract.py)."""

from __future__ import annotations

from store_contract import StoreContract


class TestStoreContract(StoreContract):
    """Parametrised by the ``backend`` fixture: the folder (faiss) and Milvus Lite."""
