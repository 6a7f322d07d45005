"""Registries: one per kind of thing numrnn builds from a name (layers, cells, losses, optimizers).

The file format writes a class's registered name and reads it back through its registry, and the command line
lists its choices from one; nothing else keeps a table of names. A user's own class joins with `register`:

    @numrnn.cells.register
    class PeepholeLSTMCell(numrnn.cells.Cell): ...
"""


class Registry:
    def __init__(self, kind):
        self.kind = kind
        self._entries = {}
        self._aliases = {}

    def register(self, entry=None, *, name=None, aliases=()):
        """Add `entry` under `name` (default: its __name__) and any aliases; usable as a decorator. Returns entry."""
        def add(item):
            key = name or getattr(item, "name", None) or item.__name__
            if not isinstance(key, str):
                key = item.__name__
            for label in (key, *aliases):
                existing = self._entries.get(label, self._entries.get(self._aliases.get(label)))
                if existing is not None and existing is not item:
                    raise ValueError(f"a {self.kind} named {label!r} is already registered ({existing!r})")
            self._entries[key] = item
            for alias in aliases:
                self._aliases[alias] = key
            return item

        return add if entry is None else add(entry)

    def get(self, name):
        """The entry registered under `name` or one of its aliases; ValueError listing the known names."""
        if not isinstance(name, str):
            raise TypeError(f"a {self.kind} name must be a str, got {type(name).__name__} {name!r}")
        key = self._aliases.get(name, name)
        if key not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        return self._entries[key]

    def name_of(self, entry):
        """The name `entry` is registered under; ValueError if it is not registered."""
        for key, item in self._entries.items():
            if item is entry:
                return key
        raise ValueError(f"{getattr(entry, '__name__', entry)!r} is not a registered {self.kind}; register it with "
                         f"numrnn's register() for its kind so that files can name it")

    def build(self, spec, base, **kwargs):
        """An instance from `spec`: an instance of `base` (returned as is), a subclass of it, a name (an alias, or
        any case), or a config dict {"name": ..., **arguments}; kwargs add to the arguments."""
        if isinstance(spec, base):
            if kwargs:
                raise TypeError(f"a {self.kind} takes keyword arguments only with a name, got an instance and "
                                f"{sorted(kwargs)}")
            return spec
        if isinstance(spec, dict):
            if "name" not in spec:
                raise ValueError(f"a {self.kind} config must have a 'name', got keys {sorted(spec)}")
            kwargs = {**{k: v for k, v in spec.items() if k != "name"}, **kwargs}
            spec = spec["name"]
        if isinstance(spec, type) and issubclass(spec, base):
            return spec(**kwargs)
        if not isinstance(spec, str):
            raise TypeError(f"{self.kind} must be a name, a config dict or a {base.__name__} instance, got "
                            f"{type(spec).__name__} {spec!r}")
        key = spec if spec in self else spec.lower()
        if key not in self:
            raise ValueError(f"unknown {self.kind} {spec!r}; known names: {', '.join(self.names(aliases=True))}")
        return self.get(key)(**kwargs)

    def names(self, aliases=False):
        return sorted(list(self._entries) + (list(self._aliases) if aliases else []))

    def __contains__(self, name):
        return name in self._entries or name in self._aliases
