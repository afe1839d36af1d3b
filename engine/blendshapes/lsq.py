"""Bounded least squares for many frames at once: min_w |B w - d|^2, 0 <= w <= 1, for every frame.

Everything works on the normal equations (G = B^T B, r = B^T d), so the per-frame cost does not depend on
the number of mesh points. Jacobi scaling, then accelerated projected gradient (FISTA with per-frame
restart), vectorised over frames; then a few exact active-set re-solves (batched small linear systems)
that land on the KKT point. An optional second pass adds a temporal smoothness penalty over the sequence.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np


class BoxLeastSquares:
    def __init__(self, gram: np.ndarray, ridge: float = 1e-8, unobserved: float = 1e-9):
        g = np.asarray(gram, np.float64)
        g = 0.5 * (g + g.T)
        diag = np.diag(g)
        self.size = len(g)
        self.mean_diag = float(diag.mean()) if len(diag) else 1.0
        # shapes that move none of the corresponding points cannot be solved for: they stay 0
        self.observed = diag > unobserved * max(float(diag.max(initial=0.0)), 1e-300)
        obs = np.flatnonzero(self.observed)
        g = g[np.ix_(obs, obs)] + ridge * self.mean_diag * np.eye(len(obs))
        self.scale = 1.0 / np.sqrt(np.diag(g))                     # w = scale * y
        self.gs = g * self.scale[:, None] * self.scale[None, :]
        self.upper = 1.0 / self.scale                               # y in [0, upper]
        eig = np.linalg.eigvalsh(self.gs) if len(obs) else np.ones(1)
        self.lipschitz = float(eig.max())
        self.inverse = np.linalg.inv(self.gs) if len(obs) else np.zeros((0, 0))

    def _objective(self, y: np.ndarray, rs: np.ndarray) -> np.ndarray:
        return 0.5 * np.einsum("nk,nk->n", y @ self.gs, y) - np.einsum("nk,nk->n", rs, y)

    def solve(self, rhs: np.ndarray, iterations: int = 40, polish_steps: int = 6, tolerance: float = 1e-7,
              chunk: int = 4096) -> np.ndarray:
        """(N, K) weights in [0, 1] for (N, K) right-hand sides B^T d."""
        rhs = np.atleast_2d(np.asarray(rhs, np.float64))
        out = np.zeros((len(rhs), self.size))
        if not self.observed.any():
            return out
        with single_threaded_blas():
            for s in range(0, len(rhs), chunk):
                rs = rhs[s:s + chunk][:, self.observed] * self.scale
                y = np.clip(rs @ self.inverse, 0.0, self.upper)
                y = self._fista(y, rs, iterations)
                for _ in range(polish_steps):
                    todo = np.flatnonzero(self._kkt_violation(y, rs) > tolerance * (1.0 + self.upper.max()))
                    if todo.size == 0:
                        break
                    y[todo] = self._polish(y[todo], rs[todo])
                todo = np.flatnonzero(self._kkt_violation(y, rs) > tolerance * (1.0 + self.upper.max()))
                if todo.size:   # the rare frame the active-set steps left: plain iterations
                    y[todo] = self._fista(y[todo], rs[todo], 4 * iterations)
                out[s:s + chunk, self.observed] = y * self.scale
        return np.clip(out, 0.0, 1.0)

    def _kkt_violation(self, y: np.ndarray, rs: np.ndarray) -> np.ndarray:
        """Per frame: how far y is from optimal (size of the projected gradient step)."""
        grad = y @ self.gs - rs
        return np.abs(y - np.clip(y - grad / self.lipschitz, 0.0, self.upper)).max(axis=1)

    def _fista(self, y: np.ndarray, rs: np.ndarray, iterations: int) -> np.ndarray:
        step = 1.0 / self.lipschitz
        x_prev = y.copy()
        z = y.copy()
        t = np.ones((len(y), 1))
        for _ in range(iterations):
            grad = z @ self.gs - rs
            x = np.clip(z - step * grad, 0.0, self.upper)
            # restart momentum where it points uphill (O'Donoghue & Candes gradient restart)
            restart = np.einsum("nk,nk->n", z - x, x - x_prev) > 0
            t[restart] = 1.0
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            z = x + ((t - 1.0) / t_next) * (x - x_prev)
            x_prev, t = x, t_next
        return x_prev

    def _polish(self, y: np.ndarray, rs: np.ndarray, eps: float = 1e-9) -> np.ndarray:
        """One active-set step: fix variables at a bound whose gradient pushes outward, solve the rest exactly."""
        grad = y @ self.gs - rs
        at_low = (y <= eps) & (grad > 0)
        at_high = (y >= self.upper - eps) & (grad < 0)
        free = ~(at_low | at_high)
        fixed = np.where(at_high, self.upper, 0.0)
        k = self.gs.shape[0]
        m = free.astype(np.float64)
        a = self.gs[None] * m[:, :, None] * m[:, None, :] + np.eye(k)[None] * (1.0 - m)[:, None, :]
        b = m * (rs - fixed @ self.gs)
        try:
            sol = np.linalg.solve(a, b[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            return y
        candidate = np.clip(np.where(free, sol, fixed), 0.0, self.upper)
        better = self._objective(candidate, rs) < self._objective(y, rs)
        return np.where(better[:, None], candidate, y)

    def smooth(self, weights: np.ndarray, rhs: np.ndarray, smoothness: float, iterations: int = 200) -> np.ndarray:
        """Second pass: add smoothness * mean(diag G) * sum |w_t - w_(t-1)|^2 over the sequence."""
        if smoothness <= 0 or len(weights) < 3 or not self.observed.any():
            return weights
        lam = smoothness * self.mean_diag
        rs = np.asarray(rhs, np.float64)[:, self.observed] * self.scale
        s2 = self.scale ** 2
        y = weights[:, self.observed] / self.scale
        step = 1.0 / (self.lipschitz + 4.0 * lam * s2.max())

        def grad(v):
            lap = 2.0 * v
            lap[0] -= v[0]
            lap[-1] -= v[-1]
            lap[1:] -= v[:-1]
            lap[:-1] -= v[1:]
            return v @ self.gs - rs + lam * s2 * lap

        x_prev, z, t = y.copy(), y.copy(), 1.0
        with single_threaded_blas():
            x_prev = self._smooth_iterations(x_prev, z, t, grad, step, iterations)
        out = weights.copy()
        out[:, self.observed] = x_prev * self.scale
        return np.clip(out, 0.0, 1.0)

    def _smooth_iterations(self, x_prev, z, t, grad, step, iterations):
        for _ in range(iterations):
            x = np.clip(z - step * grad(z), 0.0, self.upper)
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            z = x + ((t - 1.0) / t_next) * (x - x_prev)
            x_prev, t = x, t_next
        return x_prev


@contextmanager
def single_threaded_blas():
    """Small (K x K) products are fastest on one thread; BLAS worker threads only wait on each other (and
    on a loaded 2-core machine they spin for milliseconds per call)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a runtime dependency
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
