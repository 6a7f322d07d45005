"""numrnn.registry and numrnn.module: names resolve, clashes and unknown names are refused with the known names."""
import numpy as np
import pytest

from numrnn.module import Module
from numrnn.registry import Registry


def test_register_get_and_aliases():
    registry = Registry("widget")

    @registry.register(aliases=("w",))
    class Widget:
        pass

    assert registry.get("Widget") is Widget and registry.get("w") is Widget
    assert registry.name_of(Widget) == "Widget" and "w" in registry
    assert registry.names() == ["Widget"]


def test_a_clash_and_an_unknown_name_are_refused():
    registry = Registry("widget")
    registry.register(int, name="number")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(float, name="number")
    with pytest.raises(ValueError, match="unknown widget 'nothing'; known: number"):
        registry.get("nothing")
    with pytest.raises(ValueError, match="not a registered widget"):
        registry.name_of(float)
    with pytest.raises(TypeError, match="must be a str"):
        registry.get(3)


class Scale(Module):
    def __init__(self, size, dtype="float64"):
        super().__init__(dtype)
        self.size = size
        self.add_param("weight", np.arange(size, dtype=float))

    def config(self):
        return {"size": self.size, "dtype": np.dtype(self.dtype).name}


def test_module_parameters_clone_and_state_dict():
    module = Scale(3)
    assert module.grads["weight"].shape == (3,) and not module.grads["weight"].any()
    copy = module.clone()
    assert copy is not module and np.array_equal(copy.params["weight"], [0, 1, 2])
    copy.params["weight"][0] = 5
    assert module.params["weight"][0] == 0
    assert repr(module) == "Scale(3)"
    with pytest.raises(ValueError, match="already has a parameter"):
        module.add_param("weight", np.zeros(1))


def test_load_state_dict_refuses_values_that_do_not_fit_the_dtype():
    module = Scale(2, dtype="float32")
    with pytest.raises(ValueError, match="finite numbers that fit in float32"):
        module.load_state_dict({"weight": np.array([1e300, 0.0])})
    with pytest.raises(ValueError, match="missing \\['weight'\\], unknown \\['other'\\]"):
        module.load_state_dict({"other": np.zeros(2)})
    assert not module.params["weight"].any() or module.params["weight"][1] == 1
