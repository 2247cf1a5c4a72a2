"""GPU diagnosis: per-step time of mt.jit vs its raw compiled program vs hand-written JAX, sync and async."""
import statistics, sys, time
import jax, jax.numpy as jnp, numpy as np
sys.path.insert(0, "benchmarks")
import jit_step as J
import minitorch_jax as mt

prec = sys.argv[1] if len(sys.argv) > 1 else "highest"
mt.set_float32_matmul_precision(prec)
jax.config.update("jax_default_matmul_precision", {"medium": "default"}.get(prec, prec))


def sync_times(f, n=300):
    for _ in range(30):
        jax.block_until_ready(_arr(f()))
    ret, done = [], []
    for _ in range(n):
        t = time.perf_counter(); o = f(); t1 = time.perf_counter()
        jax.block_until_ready(_arr(o)); t2 = time.perf_counter()
        ret.append(t1 - t); done.append(t2 - t)
    return statistics.median(ret) * 1e6, statistics.median(done) * 1e6


def async_time(f, n=1000):
    best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            o = f()
        jax.block_until_ready(_arr(o))
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e6


def _arr(o):
    return o._data if isinstance(o, mt.Tensor) else o


for name in ("tiny", "mlp"):
    mt.manual_seed(0)
    w = J.WORKLOADS[name]
    x, y = J._data(w, np.random.default_rng(0))
    ts, model, run = J._mt_jit_step(w, x, y)
    run(); run()
    js = J._jax_step(w, J._jax_params(model), x, y)
    r_mt = sync_times(run); a_mt = async_time(run)
    r_j = sync_times(js); a_j = async_time(js)
    entry = next(iter(ts._cache.values()))
    cap = ts._cap
    dyn = [mt.tensor(x)._data, mt.tensor(y)._data]
    st = [ts._gather(cap)]
    hp = ts._hp(cap)

    def raw():
        outs, s = entry.fn(st[0], dyn, hp)
        st[0] = s
        return outs[0]
    r_raw = sync_times(raw); a_raw = async_time(raw)
    data, grads, keys = st[0]
    for t, a in zip(cap.tensors, data):
        t._data = a
    for g, k in zip(cap.generators, keys):
        g._key = k
    print(f"{name} [{prec}] sync (return us, done us) mt.jit {r_mt[0]:.0f},{r_mt[1]:.0f}  raw {r_raw[0]:.0f},"
          f"{r_raw[1]:.0f}  jax {r_j[0]:.0f},{r_j[1]:.0f} | async us mt.jit {a_mt:.0f} raw {a_raw:.0f} "
          f"jax {a_j:.0f}", flush=True)
