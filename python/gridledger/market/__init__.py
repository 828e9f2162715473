"""Markets (SPEC §4).

The continuous double auction, the call market, the hourly MCP auction,
NRGCoin's pricing, multi-period welfare clearing, and statistics to compare
them.
"""

from __future__ import annotations

from gridledger.market.book import OP_CODES, STATUS, TAPE_SCHEMA, OrderBook, Submitted, Trade, ops_frame
from gridledger.market.call_auction import CallAuctionResult, clear_call_auction
from gridledger.market.multiperiod import MultiPeriodResult, clear_multi_period
from gridledger.market.pricing import mcp_auction, nrgcoin_consumer_price, nrgcoin_producer_reward
from gridledger.market.stats import MarketStats, market_stats, optimal_welfare

__all__ = [
    "OP_CODES",
    "STATUS",
    "TAPE_SCHEMA",
    "CallAuctionResult",
    "MarketStats",
    "MultiPeriodResult",
    "OrderBook",
    "Submitted",
    "Trade",
    "clear_call_auction",
    "clear_multi_period",
    "market_stats",
    "mcp_auction",
    "nrgcoin_consumer_price",
    "nrgcoin_producer_reward",
    "ops_frame",
    "optimal_welfare",
]
