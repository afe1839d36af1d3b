"""Reading research pickles without running their code.

FLAME's `generic_model.pkl` (and many trackers' parameter dumps) are Python-2 era pickles of a dict of
numpy arrays, chumpy objects (`chumpy.ch.Ch`) and scipy.sparse matrices. A plain `pickle.load` would import
whatever module the file names and call whatever it says. `safe_load` allows only numpy's array/scalar
reconstruction and maps chumpy and scipy.sparse classes to small inert stand-ins that keep their state;
any other global (os.system, builtins.eval, ...) is refused with an error. chumpy and scipy are never
imported by the unpickling itself.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np


class UnsafePickle(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list (it could run code)."""

    def __init__(self, module: str, name: str):
        super().__init__(f"refusing to load {module}.{name}")
        self.module, self.name = module, name


class ChStandIn:
    """Stands in for a chumpy object: keeps its pickled state; `.array()` is its value (`x`)."""

    chumpy_class = "chumpy.ch.Ch"

    def __new__(cls, *args, **kwargs):  # NEWOBJ passes no arguments for chumpy objects
        return super().__new__(cls)

    def __setstate__(self, state) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
            state = {**(state[0] or {}), **(state[1] or {})}
        self.state = dict(state) if isinstance(state, dict) else {"x": state}

    def array(self) -> np.ndarray:
        state = getattr(self, "state", {})
        for key in ("x", "r", "_x"):
            if key in state:
                return as_array(state[key])
        raise ValueError(f"a pickled {self.chumpy_class} holds no array value (it is an unevaluated "
                         f"chumpy expression with terms {sorted(state)})")


class SparseStandIn:
    """Stands in for a pickled scipy.sparse csc/csr/coo matrix; `.toarray()` builds the dense value."""

    kind = "csc"

    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __setstate__(self, state) -> None:
        if isinstance(state, tuple) and len(state) == 2:
            state = {**(state[0] or {}), **(state[1] or {})}
        self.state = dict(state)

    @property
    def shape(self) -> tuple[int, int]:
        shape = self.state.get("_shape", self.state.get("shape"))
        if shape is None:
            raise ValueError("pickled sparse matrix has no shape")
        return tuple(int(s) for s in shape)

    def toarray(self) -> np.ndarray:
        s = self.state
        rows, cols = self.shape
        out = np.zeros((rows, cols), np.float64)
        if self.kind in ("csc", "csr"):
            data, indices, indptr = (np.asarray(s[k]) for k in ("data", "indices", "indptr"))
            major = cols if self.kind == "csc" else rows
            if len(indptr) != major + 1:
                raise ValueError(f"pickled {self.kind} matrix has {len(indptr)} index pointers for {major} "
                                 "columns/rows")
            counts = np.diff(indptr)
            majors = np.repeat(np.arange(major), counts)
            if self.kind == "csc":
                np.add.at(out, (indices, majors), data)
            else:
                np.add.at(out, (majors, indices), data)
        elif self.kind == "coo":
            row, col = (np.asarray(s[k]) for k in (("row", "col") if "row" in s else ("_row", "_col")))
            np.add.at(out, (row, col), np.asarray(s["data"]))
        else:
            raise ValueError(f"unsupported pickled sparse format {self.kind}")
        return out


def _stand_in(base: type, full_name: str, **attrs) -> type:
    cls = type(full_name.rsplit(".", 1)[-1], (base,), {"chumpy_class": full_name, **attrs})
    return cls


_SPARSE_KINDS = {"csc_matrix": "csc", "csr_matrix": "csr", "coo_matrix": "coo",
                 "csc_array": "csc", "csr_array": "csr", "coo_array": "coo"}
_SPARSE_MODULES = {"scipy.sparse", "scipy.sparse.csc", "scipy.sparse.csr", "scipy.sparse.coo",
                   "scipy.sparse._csc", "scipy.sparse._csr", "scipy.sparse._coo",
                   "scipy.sparse.compressed", "scipy.sparse._compressed"}
_NUMPY_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
}


# plain containers chumpy keeps beside its values (constructing them runs no code of the file's choosing)
_BUILTINS = {"object": object, "set": set, "frozenset": frozenset, "list": list, "tuple": tuple, "dict": dict}


def _reconstructor(cls, base, state):
    """copy_reg._reconstructor, limited to the stand-ins (the only classes find_class ever returns)."""
    if not (isinstance(cls, type) and issubclass(cls, (ChStandIn, SparseStandIn))):
        raise UnsafePickle("copyreg._reconstructor", getattr(cls, "__name__", repr(cls)))
    return cls.__new__(cls)


class RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, handle: BinaryIO):
        super().__init__(handle, encoding="latin1")
        self._classes: dict[str, type] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY_ALLOWED:
            return super().find_class(module, name)
        if module.split(".")[0] == "chumpy":
            key = f"{module}.{name}"
            if key not in self._classes:
                self._classes[key] = _stand_in(ChStandIn, key)
            return self._classes[key]
        if module in _SPARSE_MODULES and name in _SPARSE_KINDS:
            key = f"{module}.{name}"
            if key not in self._classes:
                self._classes[key] = _stand_in(SparseStandIn, key, kind=_SPARSE_KINDS[name])
            return self._classes[key]
        if (module, name) in (("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor")):
            return _reconstructor
        if module in ("__builtin__", "builtins") and name in _BUILTINS:
            return _BUILTINS[name]
        if (module, name) == ("_codecs", "encode"):  # how Python 3 writes bytes in protocol 2
            return _latin1_encode
        raise UnsafePickle(module, name)


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    if encoding.lower().replace("-", "") not in ("latin1", "iso88591"):
        raise UnsafePickle("_codecs", f"encode({encoding!r})")
    return text.encode("latin1")


def safe_load(source: str | Path | bytes | BinaryIO) -> Any:
    """Unpickle with the allow-list. Raises UnsafePickle for a disallowed global and pickle errors for a
    damaged file."""
    if isinstance(source, (bytes, bytearray)):
        return RestrictedUnpickler(io.BytesIO(source)).load()
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            return RestrictedUnpickler(handle).load()
    return RestrictedUnpickler(source).load()


def safe_load_npy(path: str | Path) -> Any:
    """np.load for .npy files that may hold a pickled object (e.g. DECA's landmark_embedding.npy), without
    allow_pickle: plain arrays load as usual; object arrays go through the restricted unpickler."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        if dtype.hasobject:
            value = safe_load(handle)
            if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
                return value.item()
            return value
    return np.load(path, allow_pickle=False)


def as_array(value: Any) -> np.ndarray:
    """numpy value of an array, chumpy stand-in or sparse stand-in (dense)."""
    if isinstance(value, ChStandIn):
        return value.array()
    if isinstance(value, SparseStandIn):
        return value.toarray()
    if hasattr(value, "toarray") and callable(value.toarray):  # a real scipy.sparse matrix
        return np.asarray(value.toarray())
    return np.asarray(value)
