"""Pure, typed domain code: market data, indicators, portfolio, backtests, risk checks, brokers."""
