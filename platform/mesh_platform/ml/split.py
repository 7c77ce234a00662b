"""Time split of point-in-time rows: evaluate on the latest labelled as-of date, train before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class TimeSplit:
    """As-of dates to train on and the later, non-overlapping as-of date to evaluate on."""

    train: list[date]
    evaluate: date

    def __str__(self) -> str:
        return self.evaluate.isoformat()


def time_split(as_of_dates: list[date], horizon_days: int, data_end: date) -> TimeSplit:
    """Evaluate on the last as-of date whose label horizon fits, train on what precedes it.

    Training dates keep only those whose label window closes by the evaluation date, so no
    training label looks into the evaluation window. Applying this again to ``train`` with
    ``data_end=evaluate`` carves a validation split out of the training period.

    Args:
        as_of_dates: Candidate as-of dates.
        horizon_days: Label horizon of the model.
        data_end: End of the observed data (the as-of date of the rows scored now).

    Returns:
        The split.

    Raises:
        ValueError: If no date fits, or nothing is left to train on.
    """
    horizon = timedelta(days=horizon_days)
    fits = sorted(d for d in set(as_of_dates) if d + horizon <= data_end)
    if not fits:
        raise ValueError(
            f"no as-of date has its full {horizon_days}-day label window by {data_end} "
            f"(as-of dates {min(as_of_dates, default=None)} .. {max(as_of_dates, default=None)})"
        )
    evaluate = fits[-1]
    train = [d for d in fits if d + horizon <= evaluate]
    if not train:
        raise ValueError(
            f"no as-of date ends its {horizon_days}-day label window by the evaluation date "
            f"{evaluate}: nothing to train on"
        )
    return TimeSplit(train=train, evaluate=evaluate)
