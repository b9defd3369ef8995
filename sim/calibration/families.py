"""The service-time families of the scenario format, each fitted by maximum likelihood.

Every family works on a batch of samples at once (rows of a 2-D array), because the
goodness-of-fit test refits each family to a few hundred simulated samples: one vectorised
fit of 199 rows costs what one row costs in a Python loop. Parameters are kept in the
family's natural form (``theta``) and turned into the scenario format's names (``mean``,
``cv``, ``low``, ``mode``, ``high``) only for the fragment and the report.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

Z95 = float(stats.norm.ppf(0.975))


class Family:
    """A distribution family: batch MLE, log-density, CDF, sampling and 95% intervals of its parameters."""

    name = ""
    n_params = 0
    needs_positive = False
    """True when a time of 0 has no density (a log of 0): the family cannot be fitted to such data."""

    def fit(self, x: np.ndarray) -> np.ndarray:
        """Maximum-likelihood ``theta`` of each row of ``x`` (shape (rows, n)), as (rows, n_params)."""
        raise NotImplementedError

    def logpdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def cdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, theta: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        raise NotImplementedError

    def params(self, theta: np.ndarray) -> dict[str, float]:
        """``theta`` (one row) in the scenario format's parameter names."""
        raise NotImplementedError

    def intervals(self, x: np.ndarray, theta: np.ndarray, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
        """95% confidence intervals of ``params``; by default a parametric bootstrap (200 samples).

        The *basic* interval (2 estimate - quantiles of the refits) is used, not the percentile one:
        an end of the range is estimated from the sample's extreme, which lies inside the true
        range, so refits lie inside it too, and percentiles would never reach beyond the data.
        """
        rows = max(1, min(200, 2_000_000 // len(x)))  # samples drawn at once: memory bounded for any n
        refits = np.concatenate(
            [
                self.fit(self.sample(rng, np.repeat(theta[None, :], rows, axis=0), (rows, len(x))))
                for _ in range(0, 200, rows)
            ]
        )[:200]
        out = {}
        for key, value in self.params(theta).items():
            values = np.array([self.params(t)[key] for t in refits])
            low, high = np.quantile(values, [0.025, 0.975])
            out[key] = (float(2 * value - high), float(2 * value - low))
            if key in ("low", "mode"):  # times are never negative
                out[key] = (max(out[key][0], 0.0), max(out[key][1], 0.0))
        return out


def _col(theta: np.ndarray, i: int) -> np.ndarray:
    """Parameter ``i`` of every row, shaped to broadcast against the rows of a sample."""
    return theta[:, i : i + 1]


class Exponential(Family):
    """Memoryless times; the mean is the MLE and its interval exact (2n x̄ / mean is chi-square, 2n df)."""

    name = "exponential"
    n_params = 1

    def fit(self, x: np.ndarray) -> np.ndarray:
        return x.mean(axis=1, keepdims=True)

    def logpdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        m = _col(theta, 0)
        return -np.log(m) - x / m

    def cdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return -np.expm1(-x / _col(theta, 0))

    def sample(self, rng: np.random.Generator, theta: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        return rng.exponential(1.0, size) * _col(theta, 0)

    def params(self, theta: np.ndarray) -> dict[str, float]:
        return {"mean": float(theta[0])}

    def intervals(self, x: np.ndarray, theta: np.ndarray, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
        n, total = len(x), 2 * float(x.sum())
        return {"mean": (total / float(stats.chi2.ppf(0.975, 2 * n)), total / float(stats.chi2.ppf(0.025, 2 * n)))}


class Lognormal(Family):
    """log t is normal: mu and sigma are the mean and (n-divisor) deviation of the logs."""

    name = "lognormal"
    n_params = 2
    needs_positive = True

    def fit(self, x: np.ndarray) -> np.ndarray:
        logs = np.log(x)
        return np.stack([logs.mean(axis=1), logs.std(axis=1)], axis=1)

    def logpdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        mu, sigma = _col(theta, 0), _col(theta, 1)
        logs = np.log(x)
        return -logs - np.log(sigma) - 0.5 * np.log(2 * np.pi) - (logs - mu) ** 2 / (2 * sigma**2)

    def cdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return special.ndtr((np.log(x) - _col(theta, 0)) / _col(theta, 1))

    def sample(self, rng: np.random.Generator, theta: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        return np.exp(_col(theta, 0) + _col(theta, 1) * rng.standard_normal(size))

    def params(self, theta: np.ndarray) -> dict[str, float]:
        mu, sigma = float(theta[0]), float(theta[1])
        return {"mean": float(np.exp(mu + sigma**2 / 2)), "cv": float(np.sqrt(np.expm1(sigma**2)))}

    def intervals(self, x: np.ndarray, theta: np.ndarray, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
        # log(mean) = mu + s2/2 with var(mu) = s2/n, var(s2) = 2 s2^2/n (independent); cv from s2's chi-square
        n, mu, s2 = len(x), float(theta[0]), float(theta[1]) ** 2
        half = Z95 * np.sqrt(s2 / n + s2**2 / (2 * n))
        lo_s2, hi_s2 = n * s2 / stats.chi2.ppf(0.975, n - 1), n * s2 / stats.chi2.ppf(0.025, n - 1)
        return {
            "mean": (float(np.exp(mu + s2 / 2 - half)), float(np.exp(mu + s2 / 2 + half))),
            "cv": (float(np.sqrt(np.expm1(lo_s2))), float(np.sqrt(np.expm1(hi_s2)))),
        }


class Gamma(Family):
    """Shape k and scale; the MLE of k by Minka's approximation refined by Newton steps, the mean is x̄."""

    name = "gamma"
    n_params = 2
    needs_positive = True

    def fit(self, x: np.ndarray) -> np.ndarray:
        mean = x.mean(axis=1)
        s = np.maximum(np.log(mean) - np.log(x).mean(axis=1), 1e-12)
        k = (3 - s + np.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
        for _ in range(30):
            step = (np.log(k) - special.digamma(k) - s) / (k * k * (1 / k - special.polygamma(1, k)))
            new = 1 / (1 / k + step)
            if np.all(np.abs(new - k) <= 1e-10 * k):
                k = new
                break
            k = new
        return np.stack([k, mean / k], axis=1)

    def logpdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        k, scale = _col(theta, 0), _col(theta, 1)
        return (k - 1) * np.log(x) - x / scale - k * np.log(scale) - special.gammaln(k)

    def cdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return special.gammainc(_col(theta, 0), x / _col(theta, 1))

    def sample(self, rng: np.random.Generator, theta: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        return rng.standard_gamma(np.broadcast_to(_col(theta, 0), size)) * _col(theta, 1)

    def params(self, theta: np.ndarray) -> dict[str, float]:
        k, scale = float(theta[0]), float(theta[1])
        return {"mean": k * scale, "cv": float(1 / np.sqrt(k))}

    def intervals(self, x: np.ndarray, theta: np.ndarray, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
        # in (k, mean) the Fisher information is diagonal: n k / mean^2 and n (psi'(k) - 1/k)
        n, k, mean = len(x), float(theta[0]), float(theta[0] * theta[1])
        half_mean = Z95 / np.sqrt(n * k)
        half_logk = Z95 / (k * np.sqrt(n * (float(special.polygamma(1, k)) - 1 / k)))
        return {
            "mean": (mean * float(np.exp(-half_mean)), mean * float(np.exp(half_mean))),
            "cv": (float(1 / np.sqrt(k * np.exp(half_logk))), float(1 / np.sqrt(k * np.exp(-half_logk)))),
        }


class Uniform(Family):
    """Any time between two bounds: the MLE is the sample's range."""

    name = "uniform"
    n_params = 2

    def fit(self, x: np.ndarray) -> np.ndarray:
        return np.stack([x.min(axis=1), x.max(axis=1)], axis=1)

    def logpdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        low, high = _col(theta, 0), _col(theta, 1)
        inside = (x >= low) & (x <= high)
        return np.where(inside, -np.log(high - low), -np.inf)

    def cdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        low, high = _col(theta, 0), _col(theta, 1)
        return np.clip((x - low) / (high - low), 0.0, 1.0)

    def sample(self, rng: np.random.Generator, theta: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        low, high = _col(theta, 0), _col(theta, 1)
        return low + (high - low) * rng.random(size)

    def params(self, theta: np.ndarray) -> dict[str, float]:
        return {"low": float(theta[0]), "high": float(theta[1])}

    def intervals(self, x: np.ndarray, theta: np.ndarray, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
        # exact given the width: (min - low) / width is Beta(1, n), and so is (high - max) / width
        n, low, high = len(x), float(theta[0]), float(theta[1])
        width = (high - low) * (n + 1) / max(n - 1, 1)
        near, far = 1 - 0.975 ** (1 / n), 1 - 0.025 ** (1 / n)
        lows = (max(low - width * far, 0.0), max(low - width * near, 0.0))  # times are never negative
        return {"low": lows, "high": (high + width * near, high + width * far)}


class Triangular(Family):
    """Shortest, most likely and longest: ends at the range widened by range/(n-1), the mode by exact MLE.

    With the ends at the sample's extremes the likelihood is 0 (a density of 0 there), so the
    ends are widened as for the uniform's unbiased range; given them, the likelihood is
    largest with the mode at an order statistic, and all n are tried at once with running sums.
    """

    name = "triangular"
    n_params = 3

    def fit(self, x: np.ndarray) -> np.ndarray:
        xs = np.sort(x, axis=1)
        n = xs.shape[1]
        widen = (xs[:, -1] - xs[:, 0]) / max(n - 1, 1)
        low, high = (xs[:, 0] - widen)[:, None], (xs[:, -1] + widen)[:, None]
        left = np.cumsum(np.log(xs - low), axis=1)  # sum of log(x_i - low) for i <= j
        right = np.cumsum(np.log(high - xs)[:, ::-1], axis=1)[:, ::-1]  # sum for i >= j
        right_after = np.concatenate([right[:, 1:], np.zeros((len(xs), 1))], axis=1)
        j = np.arange(n)[None, :]
        with np.errstate(divide="ignore"):
            ll = left - (j + 1) * np.log(xs - low) + right_after - (n - 1 - j) * np.log(high - xs)
        best = np.argmax(ll, axis=1)
        mode = xs[np.arange(len(xs)), best]
        return np.stack([low[:, 0], mode, high[:, 0]], axis=1)

    def logpdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        low, mode, high = _col(theta, 0), _col(theta, 1), _col(theta, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            below = np.log(2 * (x - low)) - np.log((high - low) * (mode - low))
            above = np.log(2 * (high - x)) - np.log((high - low) * (high - mode))
        return np.where(x <= mode, below, above)

    def cdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        low, mode, high = _col(theta, 0), _col(theta, 1), _col(theta, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            below = (x - low) ** 2 / ((high - low) * (mode - low))
            above = 1 - (high - x) ** 2 / ((high - low) * (high - mode))
        return np.clip(np.where(x <= mode, below, above), 0.0, 1.0)

    def sample(self, rng: np.random.Generator, theta: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        low, mode, high = _col(theta, 0), _col(theta, 1), _col(theta, 2)
        u = rng.random(size)
        split = (mode - low) / (high - low)
        return np.where(
            u < split,
            low + np.sqrt(u * (high - low) * (mode - low)),
            high - np.sqrt((1 - u) * (high - low) * (high - mode)),
        )

    def params(self, theta: np.ndarray) -> dict[str, float]:
        return {"low": float(max(theta[0], 0.0)), "mode": float(theta[1]), "high": float(theta[2])}


FAMILIES: tuple[Family, ...] = (Exponential(), Gamma(), Lognormal(), Uniform(), Triangular())
"""The families tried, in the order ties are broken (fewest parameters, then the classic ones first)."""
