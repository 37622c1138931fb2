from __future__ import annotations

import pyarrow as pa
import pytest

from processing.monitoring.batch import Batch, ColumnBatch


def text_batch(cells: list[str | None], name: str = "c") -> Batch:
    return Batch([ColumnBatch.text(name, pa.array(cells, type=pa.string()))], len(cells))


@pytest.fixture
def batch_of():
    return text_batch
