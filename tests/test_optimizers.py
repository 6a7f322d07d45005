"""Optimizers: the first steps against hand arithmetic, dtype, lr changes, checks, state, and torch parity."""
import json
import math

import numpy as np
import pytest

from numrnn.optimizers import SGD, Adagrad, Adam, Optimizer, RMSprop, Rprop, get_optimizer

# one 2-element parameter and three gradients, small enough to follow by hand
P0 = [1.0, -2.0]
G1, G2, G3 = [0.5, -1.0], [0.25, 2.0], [-1.0, 0.5]


def _run(optimizer, grads, start=P0, dtype=np.float64):
    """The parameter after each step, as a list of arrays."""
    params = {"w": np.array(start, dtype=dtype)}
    history = []
    for grad in grads:
        optimizer.step(params, {"w": np.array(grad, dtype=dtype)})
        history.append(params["w"].copy())
    return history


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-14)


# -- first steps by hand -------------------------------------------------------------------------------------------

def test_sgd_steps_by_hand():
    p1, p2 = _run(SGD(lr=0.1), [G1, G2])
    _close(p1, [1.0 - 0.1 * 0.5, -2.0 + 0.1 * 1.0])
    _close(p2, [0.95 - 0.1 * 0.25, -1.9 - 0.1 * 2.0])


def test_sgd_momentum_steps_by_hand():
    p1, p2, p3 = _run(SGD(lr=0.1, momentum=0.9), [G1, G2, G3])
    # buf = 0.9 buf + g: [0.5, -1], then [0.45 + 0.25, -0.9 + 2] = [0.7, 1.1], then [0.63 - 1, 0.99 + 0.5]
    _close(p1, [1.0 - 0.05, -2.0 + 0.1])
    _close(p2, [0.95 - 0.07, -1.9 - 0.11])
    _close(p3, [0.88 + 0.037, -2.01 - 0.149])


def test_sgd_nesterov_steps_by_hand():
    p1, p2 = _run(SGD(lr=0.1, momentum=0.9, nesterov=True), [G1, G2])
    # update = g + 0.9 buf: [0.5 + 0.45, -1 - 0.9], then [0.25 + 0.63, 2 + 0.99]
    _close(p1, [1.0 - 0.095, -2.0 + 0.19])
    _close(p2, [0.905 - 0.088, -1.81 - 0.299])


def test_sgd_weight_decay_steps_by_hand():
    p1, p2 = _run(SGD(lr=0.1, weight_decay=0.1), [G1, G2])
    # g' = g + 0.1 p: [0.5 + 0.1, -1 - 0.2], then [0.25 + 0.094, 2 - 0.188]
    _close(p1, [1.0 - 0.06, -2.0 + 0.12])
    _close(p2, [0.94 - 0.0344, -1.88 - 0.1812])


def test_adam_steps_by_hand():
    p1, p2 = _run(Adam(lr=0.1, betas=(0.9, 0.999), eps=1e-8), [G1, G2])
    # step 1: m = 0.1 g, v = 0.001 g^2; corrected: m / 0.1 = g, v / 0.001 = g^2, so the step is lr g / (|g| + eps)
    _close(p1, [1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 1.0 / (1.0 + 1e-8)])
    # step 2: m = 0.9 m + 0.1 g = [0.07, 0.11]; v = 0.999 v + 0.001 g^2 = [0.00031225, 0.004999]
    m_hat = np.array([0.07, 0.11]) / (1 - 0.9 ** 2)
    v_hat = np.array([0.00031225, 0.004999]) / (1 - 0.999 ** 2)
    _close(p2, p1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8))


def test_rmsprop_steps_by_hand():
    p1, p2 = _run(RMSprop(lr=0.01, alpha=0.99, eps=1e-8), [G1, G2])
    # v = 0.01 g^2 = [0.0025, 0.01], sqrt = [0.05, 0.1]; then v = 0.99 v + 0.01 g^2 = [0.0031, 0.0499]
    _close(p1, [1.0 - 0.01 * 0.5 / (0.05 + 1e-8), -2.0 + 0.01 * 1.0 / (0.1 + 1e-8)])
    _close(p2, p1 - 0.01 * np.array([0.25 / (math.sqrt(0.0031) + 1e-8), 2.0 / (math.sqrt(0.0499) + 1e-8)]))


def test_rmsprop_momentum_steps_by_hand():
    p1, p2 = _run(RMSprop(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.5), [G1, G2])
    buf1 = np.array([0.5 / (0.05 + 1e-8), -1.0 / (0.1 + 1e-8)])
    buf2 = 0.5 * buf1 + np.array([0.25 / (math.sqrt(0.0031) + 1e-8), 2.0 / (math.sqrt(0.0499) + 1e-8)])
    _close(p1, np.array(P0) - 0.01 * buf1)
    _close(p2, p1 - 0.01 * buf2)


def test_adagrad_steps_by_hand():
    p1, p2 = _run(Adagrad(lr=0.1, eps=1e-10), [G1, G2])
    # s = g^2 = [0.25, 1]; then s = [0.3125, 5]
    _close(p1, [1.0 - 0.1 * 0.5 / (0.5 + 1e-10), -2.0 + 0.1 * 1.0 / (1.0 + 1e-10)])
    _close(p2, p1 - 0.1 * np.array([0.25 / (math.sqrt(0.3125) + 1e-10), 2.0 / (math.sqrt(5.0) + 1e-10)]))


def test_rprop_steps_by_hand():
    p1, p2, p3 = _run(Rprop(lr=0.01, etas=(0.5, 1.2)), [G1, G2, [0.0, 0.5]])
    # step 1: no previous sign, steps stay 0.01; p -= sign(g) 0.01
    _close(p1, [1.0 - 0.01, -2.0 + 0.01])
    # step 2: signs (+, +) after (+, -): element 0 speeds up to 0.012, element 1 slows to 0.005 and still moves
    _close(p2, [0.99 - 0.012, -1.99 - 0.005])
    # step 3: a zero gradient neither moves element 0 nor changes its step; element 1 speeds up to 0.006
    _close(p3, [0.978, -1.995 - 0.006])


def test_rprop_step_after_a_zero_gradient_is_unchanged():
    optimizer = Rprop(lr=0.01)
    _run(optimizer, [[1.0], [1.0], [0.0], [1.0]], start=[0.0])
    # 0.01 -> 0.012 (same sign) -> 0.012 (zero) -> 0.012 (previous sign 0)
    _close(optimizer.state["w"]["step_size"], [0.012])


def test_rprop_clamps_steps_to_step_sizes():
    fast = Rprop(lr=0.01, step_sizes=(1e-6, 0.011))
    _run(fast, [[1.0]] * 3, start=[0.0])
    _close(fast.state["w"]["step_size"], [0.011])  # 0.01 * 1.2 = 0.012 capped
    slow = Rprop(lr=0.01, step_sizes=(0.004, 50))
    _run(slow, [[1.0], [-1.0], [1.0]], start=[0.0])
    _close(slow.state["w"]["step_size"], [0.004])  # 0.01 -> 0.005 -> 0.0025 raised to 0.004


# -- dtype, in place, lr -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: SGD(momentum=0.9, nesterov=True, weight_decay=0.01), Adam,
                                  lambda: RMSprop(momentum=0.5), Adagrad, Rprop],
                         ids=["SGD", "Adam", "RMSprop", "Adagrad", "Rprop"])
def test_float32_parameters_and_state_stay_float32_and_match_float64(make):
    grads = [G1, G2, G3]
    single, double = make(), make()
    in_single = _run(single, grads, dtype=np.float32)
    in_double = _run(double, grads, dtype=np.float64)
    assert all(p.dtype == np.float32 for p in in_single)
    assert all(v.dtype == np.float32 for v in single.state["w"].values() if v.ndim)
    np.testing.assert_allclose(in_single[-1], in_double[-1], rtol=1e-6)


def test_float64_gradients_do_not_upcast_float32_parameters():
    params = {"w": np.array(P0, dtype=np.float32)}
    optimizer = Adam()
    optimizer.step(params, {"w": np.array(G1, dtype=np.float64)})
    assert params["w"].dtype == np.float32 and optimizer.state["w"]["exp_avg"].dtype == np.float32


def test_step_updates_the_parameter_arrays_in_place():
    weight = np.array(P0)
    alias = weight[:]  # a layer's reference to the same memory
    params = {"w": weight}
    SGD(lr=0.1).step(params, {"w": np.array(G1)})
    assert params["w"] is weight
    _close(alias, [0.95, -1.9])


def test_step_leaves_the_gradients_untouched():
    grad = np.array(G1)
    SGD(lr=0.1, momentum=0.9, weight_decay=0.1).step({"w": np.array(P0)}, {"w": grad})
    np.testing.assert_array_equal(grad, G1)


def test_sgd_lr_change_takes_effect_on_the_next_step():
    optimizer = SGD(lr=0.1)
    p1 = _run(optimizer, [G1])[0]
    optimizer.lr = 0.2
    params = {"w": p1.copy()}
    optimizer.step(params, {"w": np.array(G1)})
    _close(params["w"], p1 - 0.2 * np.array(G1))


def test_adam_lr_change_scales_the_next_update():
    halved, full = Adam(lr=0.1), Adam(lr=0.1)
    start = _run(halved, [G1])[0]
    _run(full, [G1])
    halved.lr = 0.05
    a, b = {"w": start.copy()}, {"w": start.copy()}
    halved.step(a, {"w": np.array(G2)})
    full.step(b, {"w": np.array(G2)})
    _close(a["w"] - start, 0.5 * (b["w"] - start))


def test_adam_counts_steps_per_parameter_so_separate_calls_match_one_call():
    together, apart = Adam(lr=0.1), Adam(lr=0.1)
    params_together = {"a": np.array(P0), "b": np.array(P0)}
    params_apart = {"a": np.array(P0), "b": np.array(P0)}
    for grad in (G1, G2, G3):
        together.step(params_together, {"a": np.array(grad), "b": np.array(grad)})
        apart.step({"a": params_apart["a"]}, {"a": np.array(grad)})  # one layer at a time
        apart.step({"b": params_apart["b"]}, {"b": np.array(grad)})
    _close(params_apart["a"], params_together["a"])
    _close(params_apart["b"], params_together["b"])


# -- argument checks -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, match", [
    (lambda: SGD(lr=0), ValueError, r"lr must be a positive finite number, got 0.0"),
    (lambda: SGD(lr=-0.1), ValueError, r"lr must be a positive finite number"),
    (lambda: Adam(lr="0.1"), TypeError, r"lr must be a number, got str"),
    (lambda: SGD(momentum=1.0), ValueError, r"momentum must be in \[0, 1\), got 1.0"),
    (lambda: SGD(momentum=-0.5), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: SGD(nesterov=True), ValueError, r"nesterov=True needs a momentum > 0"),
    (lambda: SGD(momentum=0.9, nesterov="yes"), TypeError, r"nesterov must be True or False"),
    (lambda: SGD(weight_decay=-1), ValueError, r"weight_decay must be a non-negative finite number"),
    (lambda: Adam(betas=(1.0, 0.999)), ValueError, r"betas\[0\] must be in \[0, 1\), got 1.0"),
    (lambda: Adam(betas=(0.9, -0.1)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
    (lambda: Adam(eps=0), ValueError, r"eps must be a positive finite number"),
    (lambda: RMSprop(alpha=1.5), ValueError, r"alpha must be in \[0, 1\)"),
    (lambda: RMSprop(momentum=2), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: Adagrad(eps=-1e-10), ValueError, r"eps must be a positive finite number"),
    (lambda: Rprop(etas=(1.2, 0.5)), ValueError, r"etas must be \(eta_minus, eta_plus\) with 0 < eta_minus < 1"),
    (lambda: Rprop(etas=0.5), TypeError, r"etas must be a pair of numbers"),
    (lambda: Rprop(step_sizes=(1.0, 0.1)), ValueError, r"step_sizes must be \(min, max\) with 0 <= min <= max"),
])
def test_bad_hyperparameters_are_rejected(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_setting_a_bad_lr_later_is_rejected():
    optimizer = Adam()
    with pytest.raises(ValueError, match=r"lr must be a positive finite number, got -1.0"):
        optimizer.lr = -1.0
    assert optimizer.lr == 1e-3


def test_missing_gradient_is_rejected_before_any_parameter_moves():
    params = {"a": np.array(P0), "b": np.array(P0)}
    with pytest.raises(ValueError, match=r"grads has no entry for the parameters \['b'\]"):
        SGD().step(params, {"a": np.array(G1)})
    np.testing.assert_array_equal(params["a"], P0)


def test_gradient_of_another_shape_is_rejected_before_any_parameter_moves():
    params = {"a": np.array(P0), "b": np.array(P0)}
    with pytest.raises(ValueError, match=r"grads\['b'\] must have the shape of its parameter \(2,\), got \(3,\)"):
        Adam().step(params, {"a": np.array(G1), "b": np.zeros(3)})
    np.testing.assert_array_equal(params["a"], P0)


def test_parameter_that_cannot_change_in_place_is_rejected():
    with pytest.raises(TypeError, match=r"params\['w'\] must be a float32 or float64 NumPy array.*got list"):
        SGD().step({"w": [1.0, 2.0]}, {"w": np.array(G1)})


def test_parameter_whose_shape_changed_under_its_state_is_rejected():
    optimizer = Adam()
    optimizer.step({"w": np.array(P0)}, {"w": np.array(G1)})
    with pytest.raises(ValueError, match=r"optimizer state 'w'/'exp_avg' has shape \(2,\), .* now has shape \(3,\)"):
        optimizer.step({"w": np.zeros(3)}, {"w": np.zeros(3)})


# -- state and config ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: SGD(lr=0.1, momentum=0.9), lambda: Adam(lr=0.1),
                                  lambda: RMSprop(momentum=0.5), Adagrad, Rprop],
                         ids=["SGD", "Adam", "RMSprop", "Adagrad", "Rprop"])
def test_load_state_dict_resumes_exactly(make):
    original = make()
    params = {"w": np.array(P0)}
    for grad in (G1, G2):
        original.step(params, {"w": np.array(grad)})
    saved = original.state_dict()
    resumed = make()
    resumed.load_state_dict(saved)
    copy = {"w": params["w"].copy()}
    original.step(params, {"w": np.array(G3)})
    resumed.step(copy, {"w": np.array(G3)})
    np.testing.assert_array_equal(copy["w"], params["w"])
    assert resumed.step_count == original.step_count == 3


ALL = pytest.mark.parametrize("make", [lambda: SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                                       lambda: Adam(lr=0.1), lambda: RMSprop(momentum=0.5), Adagrad, Rprop],
                               ids=["SGD", "Adam", "RMSprop", "Adagrad", "Rprop"])


def _state(optimizer):
    return {name: {slot: value.copy() for slot, value in slots.items()} for name, slots in optimizer.state.items()}


def _same_state(first, second):
    assert first.keys() == second.keys()
    for name, slots in first.items():
        assert slots.keys() == second[name].keys()
        for slot, value in slots.items():
            np.testing.assert_array_equal(second[name][slot], value, err_msg=f"{name}/{slot}")
            assert second[name][slot].dtype == value.dtype


@ALL
def test_steps_after_keep_give_the_bits_of_steps_without_it(make):
    """keep() before every step (the divergence guard's) changes none of the numbers the steps compute."""
    guarded, plain = make(), make()
    params = {"w": np.array(P0, dtype=np.float32), "b": np.array([0.5], dtype=np.float32)}
    copy = {name: value.copy() for name, value in params.items()}
    for grads in ([G1, [1.0]], [G2, [-2.0]], [G3, [0.25]], [G1, [0.0]]):
        grads = {"w": np.array(grads[0], dtype=np.float32), "b": np.array(grads[1], dtype=np.float32)}
        guarded.keep(params)
        guarded.step(params, grads)
        plain.step(copy, grads)
        for name, value in copy.items():
            np.testing.assert_array_equal(params[name], value, err_msg=name)
        _same_state(_state(plain), _state(guarded))


@ALL
def test_rollback_puts_back_the_weights_and_state_kept_before_the_steps_since(make):
    optimizer = make()
    params = {"w": np.array(P0)}
    optimizer.step(params, {"w": np.array(G1)})
    weights, state, count = params["w"].copy(), _state(optimizer), optimizer.step_count
    optimizer.keep(params)
    optimizer.step(params, {"w": np.array(G2)})
    optimizer.step(params, {"w": np.array(G3)})  # two steps after one keep: both undone
    optimizer.rollback(params)
    np.testing.assert_array_equal(params["w"], weights)
    _same_state(state, _state(optimizer))
    assert optimizer.step_count == count
    optimizer.step(params, {"w": np.array(G2)})  # and it steps on from there as if nothing had happened
    again = make()
    replay = {"w": np.array(P0)}
    again.step(replay, {"w": np.array(G1)})
    again.step(replay, {"w": np.array(G2)})
    np.testing.assert_array_equal(params["w"], replay["w"])
    _same_state(_state(again), _state(optimizer))


@ALL
def test_rollback_removes_the_state_of_a_parameter_first_seen_after_keep(make):
    optimizer = make()
    params = {"w": np.array(P0)}
    optimizer.keep(params)
    optimizer.step(params, {"w": np.array(G1)})
    optimizer.rollback(params)
    assert optimizer.state == {} and optimizer.step_count == 0
    np.testing.assert_array_equal(params["w"], P0)


def test_an_optimizer_of_your_own_has_its_state_kept_and_rolled_back():
    class Momentum(Optimizer):
        """buf = 0.5 buf + g; p -= lr buf, the state updated in place."""
        slots = ("buf",)

        def _hyperparameters(self):
            return {"lr": self.lr}

        def _update(self, param, grad, state, scratch):
            state["buf"] *= 0.5
            state["buf"] += grad
            param -= np.multiply(state["buf"], self.lr, out=scratch)

    optimizer = Momentum(0.1)
    params = {"w": np.array(P0)}
    optimizer.step(params, {"w": np.array(G1)})
    weights, buf = params["w"].copy(), optimizer.state["w"]["buf"].copy()
    optimizer.keep(params)
    optimizer.step(params, {"w": np.array(G2)})
    optimizer.rollback(params)
    np.testing.assert_array_equal(params["w"], weights)
    np.testing.assert_array_equal(optimizer.state["w"]["buf"], buf)


def test_state_dict_holds_copies():
    optimizer = SGD(momentum=0.9)
    params = {"w": np.array(P0)}
    optimizer.step(params, {"w": np.array(G1)})
    saved = optimizer.state_dict()
    optimizer.step(params, {"w": np.array(G2)})
    np.testing.assert_array_equal(saved["state"]["w"]["momentum_buffer"], G1)
    assert saved["step"] == 1


def test_load_state_dict_rejects_slots_of_another_optimizer():
    with pytest.raises(ValueError, match=r"state_dict\['state'\]\['w'\] must have the slots \['sum'\]"):
        Adagrad().load_state_dict({"step": 1, "state": {"w": {"exp_avg": np.zeros(2)}}})


@pytest.mark.parametrize("name, expected", [("sgd", SGD), ("Adam", Adam), ("RMSPROP", RMSprop),
                                            ("adagrad", Adagrad), ("rprop", Rprop)])
def test_get_optimizer_knows_names_in_any_case(name, expected):
    assert type(get_optimizer(name)) is expected


def test_get_optimizer_passes_keyword_arguments_and_returns_instances_as_is():
    assert get_optimizer("sgd", lr=0.5, momentum=0.9).config()["momentum"] == 0.9
    optimizer = Adam()
    assert get_optimizer(optimizer) is optimizer


def test_get_optimizer_rejects_unknown_names_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown optimizer 'lbfgs'; known names: adagrad, adam, rmsprop, rprop, sgd"):
        get_optimizer("lbfgs")


@pytest.mark.parametrize("optimizer", [SGD(momentum=0.9, nesterov=True, weight_decay=0.01), Adam(),
                                       RMSprop(momentum=0.5), Adagrad(), Rprop()],
                         ids=lambda o: type(o).__name__)
def test_config_survives_json_and_rebuilds_the_same_optimizer(optimizer):
    rebuilt = get_optimizer(json.loads(json.dumps(optimizer.config())))
    assert isinstance(rebuilt, Optimizer) and type(rebuilt) is type(optimizer)
    assert rebuilt.config() == optimizer.config()


# -- parity with torch ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, torch_name, torch_kwargs", [
    (lambda: SGD(lr=0.1, momentum=0.9, weight_decay=0.01), "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    (lambda: SGD(lr=0.1, momentum=0.9, nesterov=True), "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (lambda: Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-6), "Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    (lambda: RMSprop(lr=0.01), "RMSprop", {"lr": 0.01}),
    (lambda: RMSprop(lr=0.01, alpha=0.9, momentum=0.5), "RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5}),
    (lambda: Adagrad(lr=0.1), "Adagrad", {"lr": 0.1}),
], ids=["SGD-momentum", "SGD-nesterov", "Adam", "RMSprop", "RMSprop-momentum", "Adagrad"])
def test_five_steps_match_torch(make, torch_name, torch_kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    params = {"weight": rng.standard_normal((3, 4)), "bias": rng.standard_normal(4)}
    tensors = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    ours = make()
    theirs = getattr(torch.optim, torch_name)(list(tensors.values()), **torch_kwargs)
    for _ in range(5):
        grads = {name: rng.standard_normal(value.shape) for name, value in params.items()}
        ours.step(params, grads)
        for name, tensor in tensors.items():
            tensor.grad = torch.tensor(grads[name])
        theirs.step()
    for name, tensor in tensors.items():
        np.testing.assert_allclose(params[name], tensor.detach().numpy(), rtol=1e-10, atol=1e-12)


# -- the seed tutorial's task --------------------------------------------------------------------------------------

def test_rprop_learns_the_counting_task_of_seed_003():
    # s_k = x_k w_x + s_{k-1} w_rec with a mean squared error on the last state: counting the ones needs w = (1, 1)
    inputs = np.random.default_rng(0).integers(0, 2, (20, 10)).astype(np.float64)
    targets = inputs.sum(axis=1)

    def gradient(weights):
        w_x, w_rec = weights
        states = np.zeros((20, 11))
        for k in range(10):
            states[:, k + 1] = inputs[:, k] * w_x + states[:, k] * w_rec
        grad_state = 2 * (states[:, -1] - targets) / 20
        grad = np.zeros(2)
        for k in range(10, 0, -1):  # back through time: d s_k / d s_{k-1} = w_rec
            grad += [np.sum(grad_state * inputs[:, k - 1]), np.sum(grad_state * states[:, k - 1])]
            grad_state = grad_state * w_rec
        return grad

    weights = np.array([-1.5, 2.0])  # the tutorial's first starting point
    optimizer = Rprop(lr=0.001)
    for _ in range(500):
        optimizer.step({"w": weights}, {"w": gradient(weights)})
    np.testing.assert_allclose(weights, [1.0, 1.0], atol=1e-2)
