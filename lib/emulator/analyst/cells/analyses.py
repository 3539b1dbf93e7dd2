"""The analysis cell for each kind of question plans.py tells apart, and the kinds that need the period helpers."""

from .anomaly import ANOMALY
from .describe import CORRELATION, DISTRIBUTION, VALUES
from .drivers import DRIVERS
from .lookup import LOOKUP
from .trend import TREND

ANALYSES = {
    "trend": TREND,
    "drivers": DRIVERS,
    "anomaly": ANOMALY,
    "top": LOOKUP,
    "distribution": DISTRIBUTION,
    "correlation": CORRELATION,
    "values": VALUES,
}
NEEDS_PERIODS = {"trend", "anomaly"}
