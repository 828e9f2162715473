//! `gridledger._core.OrderBook`: the Rust order book, fed one operation or a whole stream.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::CoreError;
use crate::market::book::{
    Book, Kind, LevelRow, Op, PriceRule, SelfTrade, Side, TapeColumns, Trade,
};
use crate::py::buffers::slice;

fn side(s: &str) -> Result<Side, CoreError> {
    match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(CoreError::config(
            "side",
            format!("{s:?}"),
            "expected \"buy\" or \"sell\"",
        )),
    }
}

fn kind(k: &str) -> Result<Kind, CoreError> {
    match k {
        "limit" => Ok(Kind::Limit),
        "market" => Ok(Kind::Market),
        "ioc" => Ok(Kind::Ioc),
        _ => Err(CoreError::config(
            "kind",
            format!("{k:?}"),
            "expected \"limit\", \"market\" or \"ioc\"",
        )),
    }
}

fn qty(field: &str, q: i64) -> Result<u64, CoreError> {
    u64::try_from(q)
        .ok()
        .filter(|&x| x > 0)
        .ok_or_else(|| CoreError::invalid(field, q, "must be a positive integer"))
}

fn id(field: &str, v: i64) -> Result<u64, CoreError> {
    u64::try_from(v).map_err(|_| CoreError::invalid(field, v, "order ids and owners are ≥ 0"))
}

/// (seq, maker_id, taker_id, maker_owner, taker_owner, price, quantity).
type TradeRow = (u64, u64, u64, u64, u64, i64, u64);

fn rows(trades: &[Trade]) -> Vec<TradeRow> {
    trades
        .iter()
        .map(|t| {
            (
                t.seq,
                t.maker_id,
                t.taker_id,
                t.maker_owner,
                t.taker_owner,
                t.price,
                t.qty,
            )
        })
        .collect()
}

/// (order id, trades, remaining quantity).
type SubmitResult = (u64, Vec<TradeRow>, u64);

/// A continuous double auction order book with integer price ticks and quantities.
#[pyclass(name = "OrderBook", module = "gridledger._core")]
pub struct PyOrderBook {
    inner: Book,
    check_owner: bool,
}

#[pymethods]
impl PyOrderBook {
    #[new]
    #[pyo3(signature = (price_rule = "resting", self_trade = "allow", min_price = 1, max_price = 1 << 40, check_owner = true))]
    fn new(
        price_rule: &str,
        self_trade: &str,
        min_price: i64,
        max_price: i64,
        check_owner: bool,
    ) -> PyResult<Self> {
        let pr = match price_rule {
            "resting" => PriceRule::Resting,
            "midpoint" => PriceRule::Midpoint,
            _ => {
                return Err(CoreError::config(
                    "price_rule",
                    format!("{price_rule:?}"),
                    "expected \"resting\" or \"midpoint\"",
                )
                .into())
            }
        };
        let st = match self_trade {
            "allow" => SelfTrade::Allow,
            "cancel_resting" => SelfTrade::CancelResting,
            "reject" => SelfTrade::Reject,
            _ => {
                return Err(CoreError::config(
                    "self_trade",
                    format!("{self_trade:?}"),
                    "expected \"allow\", \"cancel_resting\" or \"reject\"",
                )
                .into())
            }
        };
        Ok(Self {
            inner: Book::new(min_price, max_price, pr, st)?,
            check_owner,
        })
    }

    /// Submit an order; returns (id, trades, remaining).
    #[pyo3(signature = (side_, price, quantity, owner, kind_ = "limit", period = 0))]
    fn submit(
        &mut self,
        side_: &str,
        price: i64,
        quantity: i64,
        owner: i64,
        kind_: &str,
        period: i64,
    ) -> PyResult<SubmitResult> {
        let s = self.inner.submit(
            side(side_)?,
            price,
            qty("quantity", quantity)?,
            id("owner", owner)?,
            kind(kind_)?,
            period,
        )?;
        Ok((s.id, rows(&s.trades), s.remaining))
    }

    /// Cancel a resting order; returns the cancelled quantity.
    #[pyo3(signature = (order_id, owner = None))]
    fn cancel(&mut self, order_id: i64, owner: Option<i64>) -> PyResult<u64> {
        let who = match (owner, self.check_owner) {
            (Some(o), true) => Some(id("owner", o)?),
            _ => None,
        };
        Ok(self.inner.cancel(id("order_id", order_id)?, who)?)
    }

    /// Lower a resting order's quantity (it keeps its place in the queue).
    fn reduce(&mut self, order_id: i64, new_quantity: i64) -> PyResult<()> {
        Ok(self.inner.reduce(
            id("order_id", order_id)?,
            qty("new_quantity", new_quantity)?,
        )?)
    }

    /// Move a resting order to a new price and quantity (it loses its time priority).
    fn replace(&mut self, order_id: i64, price: i64, quantity: i64) -> PyResult<SubmitResult> {
        let s = self
            .inner
            .replace(id("order_id", order_id)?, price, qty("quantity", quantity)?)?;
        Ok((s.id, rows(&s.trades), s.remaining))
    }

    /// Cancel every resting order submitted for a period before `before_period`: [(id, quantity)].
    fn expire(&mut self, before_period: i64) -> Vec<(u64, u64)> {
        self.inner.expire(before_period)
    }

    /// The best `levels` levels per side: ([(price, quantity, orders)] bids, asks), best first.
    #[pyo3(signature = (levels = 10))]
    fn depth(&self, levels: usize) -> (Vec<LevelRow>, Vec<LevelRow>) {
        self.inner.depth(levels)
    }

    /// Every resting order, best price then time first: [(id, owner, side, price, quantity)].
    fn orders(&self) -> Vec<(u64, u64, &'static str, i64, u64)> {
        self.inner
            .orders()
            .into_iter()
            .map(|(i, o, s, p, q)| (i, o, if s == Side::Buy { "buy" } else { "sell" }, p, q))
            .collect()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    #[getter]
    fn best_bid(&self) -> Option<i64> {
        self.inner.best_bid()
    }

    #[getter]
    fn best_ask(&self) -> Option<i64> {
        self.inner.best_ask()
    }

    #[getter]
    fn nbytes(&self) -> usize {
        self.inner.nbytes()
    }

    /// Apply a stream of operations (columns; op 0 submit, 1 cancel, 2 reduce, 3 replace;
    /// side 0 buy, 1 sell; kind 0 limit, 1 market, 2 ioc). Malformed operations raise
    /// before anything changes; an unknown order or a refused self-trade is a status.
    #[allow(clippy::too_many_arguments)]
    fn replay<'py>(
        &mut self,
        py: Python<'py>,
        op: PyReadonlyArray1<'py, u8>,
        side_: PyReadonlyArray1<'py, u8>,
        kind_: PyReadonlyArray1<'py, u8>,
        price: PyReadonlyArray1<'py, i64>,
        quantity: PyReadonlyArray1<'py, i64>,
        owner: PyReadonlyArray1<'py, i64>,
        order_id: PyReadonlyArray1<'py, i64>,
        period: PyReadonlyArray1<'py, i64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (o, s, k) = (
            slice("op", &op)?,
            slice("side", &side_)?,
            slice("kind", &kind_)?,
        );
        let (p, q, w, i, t) = (
            slice("price", &price)?,
            slice("quantity", &quantity)?,
            slice("owner", &owner)?,
            slice("order_id", &order_id)?,
            slice("period", &period)?,
        );
        let n = o.len();
        let lens = [s, k]
            .map(<[u8]>::len)
            .into_iter()
            .chain([p, q, w, i, t].map(<[i64]>::len));
        for (name, len) in FIELDS.iter().skip(1).zip(lens) {
            if len != n {
                return Err(CoreError::invalid(
                    *name,
                    format!("{len} rows"),
                    format!("every column needs {n} rows, like op"),
                )
                .into());
            }
        }
        replay_columns(py, &mut self.inner, [o, s, k], [p, q, w, i, t])
    }

    /// `replay` from the rows of a numpy structured array: `data` is its
    /// buffer (`n` rows of `itemsize` bytes) and `offsets` the byte offset of
    /// each field in the order op, side, kind (uint8), price, quantity, owner,
    /// order_id, period (little-endian int64), −1 for a field the array lacks
    /// (read as 0). The fields are gathered here, in one pass over the rows,
    /// instead of as eight numpy copies.
    fn replay_records<'py>(
        &mut self,
        py: Python<'py>,
        data: PyReadonlyArray1<'py, u8>,
        n: usize,
        itemsize: usize,
        offsets: PyReadonlyArray1<'py, i64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let data = slice("data", &data)?;
        let offs = slice("offsets", &offsets)?;
        if itemsize == 0 || n.checked_mul(itemsize) != Some(data.len()) {
            return Err(CoreError::invalid(
                "data",
                format!("{} bytes", data.len()),
                format!("{n} rows of {itemsize} bytes"),
            )
            .into());
        }
        if offs.len() != FIELDS.len() {
            return Err(CoreError::invalid(
                "offsets",
                format!("{} offsets", offs.len()),
                format!("one per field: {}", FIELDS.join(", ")),
            )
            .into());
        }
        let mut at: [Option<usize>; 8] = [None; 8];
        for (f, (&o, slot)) in offs.iter().zip(at.iter_mut()).enumerate() {
            let width = if f < 3 { 1 } else { 8 };
            *slot = match usize::try_from(o) {
                Ok(o) if o.checked_add(width).is_some_and(|end| end <= itemsize) => Some(o),
                Err(_) if o == -1 => None,
                _ => {
                    return Err(CoreError::invalid(
                        format!("offsets[{f}]"),
                        o,
                        format!(
                            "field {} must lie inside a row of {itemsize} bytes",
                            FIELDS.get(f).unwrap_or(&"?")
                        ),
                    )
                    .into())
                }
            };
        }
        let ([o, s, k], [p, q, w, i, t]) = py.detach(|| gather(data, itemsize, &at));
        replay_columns(py, &mut self.inner, [&o, &s, &k], [&p, &q, &w, &i, &t])
    }
}

/// The fields of a replayed stream, in the order `replay` takes them.
const FIELDS: [&str; 8] = [
    "op", "side", "kind", "price", "quantity", "owner", "order_id", "period",
];

/// The columns of records: uint8 fields 0..3 and little-endian int64 fields
/// 3..8 at the offsets `at` (zeros for a missing field), one pass over the rows.
fn gather(data: &[u8], itemsize: usize, at: &[Option<usize>; 8]) -> ([Vec<u8>; 3], [Vec<i64>; 5]) {
    let n = data.len() / itemsize.max(1);
    let mut bytes: [Vec<u8>; 3] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut ints: [Vec<i64>; 5] = std::array::from_fn(|_| Vec::with_capacity(n));
    for row in data.chunks_exact(itemsize.max(1)) {
        for (col, o) in bytes.iter_mut().zip(at) {
            col.push(o.and_then(|o| row.get(o).copied()).unwrap_or(0));
        }
        for (col, o) in ints.iter_mut().zip(at.iter().skip(3)) {
            let v = o
                .and_then(|o| row.get(o..o + 8))
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, i64::from_le_bytes);
            col.push(v);
        }
    }
    (bytes, ints)
}

/// Check every row of the columns, then apply them all (both replays end here).
// Inlined into each caller: as a separate function it measured 6-10 % slower
// per operation on short streams (its closures were no longer inlined).
#[inline(always)]
fn replay_columns<'py>(
    py: Python<'py>,
    book: &mut Book,
    [o, s, k]: [&[u8]; 3],
    [p, q, w, i, t]: [&[i64]; 5],
) -> PyResult<Bound<'py, PyDict>> {
    let n = o.len();
    // A code as given (a column shorter than op has none).
    let code = |x: Option<&u8>| x.map_or_else(|| "missing".to_owned(), u8::to_string);
    let row = |r: usize| -> Result<Op, CoreError> {
        let g = |c: &[i64]| c.get(r).copied().unwrap_or(0);
        let q_r = u64::try_from(g(q)).unwrap_or(0);
        // A negative id names no order: status 1 (unknown order).
        let id_r = u64::try_from(g(i)).unwrap_or(u64::MAX);
        let s_r = match s.get(r) {
            Some(0) => Side::Buy,
            Some(1) => Side::Sell,
            x => {
                return Err(CoreError::invalid(
                    format!("ops[{r}].side"),
                    code(x),
                    "0 = buy, 1 = sell",
                ))
            }
        };
        // Every row's kind is a code, whatever its op (as its side is): a cancel
        // carrying kind 7 is a malformed stream, not a kind to ignore.
        if let Some(&kv) = k.get(r) {
            if kv > 2 {
                return Err(CoreError::invalid(
                    format!("ops[{r}].kind"),
                    kv.to_string(),
                    "0 = limit, 1 = market, 2 = ioc",
                ));
            }
        }
        Ok(match o.get(r) {
            Some(0) => {
                let k_r = match k.get(r) {
                    Some(0) => Kind::Limit,
                    Some(1) => Kind::Market,
                    Some(2) => Kind::Ioc,
                    x => {
                        return Err(CoreError::invalid(
                            format!("ops[{r}].kind"),
                            code(x),
                            "0 = limit, 1 = market, 2 = ioc",
                        ))
                    }
                };
                let owner_r = u64::try_from(g(w)).map_err(|_| {
                    CoreError::invalid(format!("ops[{r}].owner"), g(w), "owners are ≥ 0")
                })?;
                Op::Submit {
                    side: s_r,
                    kind: k_r,
                    price: g(p),
                    qty: q_r,
                    owner: owner_r,
                    period: g(t),
                }
            }
            Some(1) => Op::Cancel { id: id_r },
            Some(2) => Op::Reduce { id: id_r, qty: q_r },
            Some(3) => Op::Replace {
                id: id_r,
                price: g(p),
                qty: q_r,
            },
            x => {
                return Err(CoreError::invalid(
                    format!("ops[{r}].op"),
                    code(x),
                    "0 submit, 1 cancel, 2 reduce, 3 replace",
                ))
            }
        })
    };
    // Decoded twice (checked, then applied) rather than stored: a stream of
    // 10^6 ops would otherwise fill 40 MB of fresh pages on every call.
    let mut tape = TapeColumns::default();
    let (statuses, ids) = py.detach(|| -> Result<_, CoreError> {
        for r in 0..n {
            row(r)?;
            // A negative quantity is reported as given (row reads it as 0).
            if let (Some(0 | 2 | 3), Some(&v)) = (o.get(r), q.get(r)) {
                if v < 0 {
                    return Err(CoreError::invalid(
                        format!("ops[{r}].quantity"),
                        v,
                        "must be in 1..2^63-1",
                    ));
                }
            }
        }
        // Every row decoded above; the fallback is never taken.
        let ops = (0..n).map(|r| row(r).unwrap_or(Op::Cancel { id: u64::MAX }));
        book.replay_into(ops, &mut tape)
    })?;
    let d = PyDict::new(py);
    for (name, col) in [
        ("seq", tape.seq),
        ("maker_id", tape.maker_id),
        ("taker_id", tape.taker_id),
        ("maker_owner", tape.maker_owner),
        ("taker_owner", tape.taker_owner),
        ("price", tape.price),
        ("quantity", tape.qty),
    ] {
        d.set_item(name, PyArray1::from_vec(py, col))?;
    }
    d.set_item("status", PyArray1::from_vec(py, statuses))?;
    d.set_item(
        "order_id",
        PyArray1::from_vec(
            py,
            ids.into_iter()
                .map(|x| i64::try_from(x).unwrap_or(-1))
                .collect::<Vec<i64>>(),
        ),
    )?;
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyOrderBook>()?;
    Ok(())
}
