"""The dbt step's timing entry: seconds per part, one JSON log line a benchmark can read back."""

import json
import time

from mesh_platform.dbt.assets import TIMING_PREFIX, Laps


def test_laps_add_up_per_name_and_read_back_as_json():
    laps = Laps()
    time.sleep(0.02)
    laps.lap("dbt")
    laps.lap("publish")
    time.sleep(0.02)
    laps.lap("dbt")  # a second lap of one name adds to the first
    line = str(laps)
    assert line.startswith(TIMING_PREFIX)
    seconds = json.loads(line.removeprefix(TIMING_PREFIX))
    assert list(seconds) == ["dbt", "publish"]
    assert seconds["dbt"] >= 0.04
    assert 0 <= seconds["publish"] < seconds["dbt"]
