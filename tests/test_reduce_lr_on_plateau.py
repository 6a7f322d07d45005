"""numrnn.callbacks.ReduceLROnPlateau: Keras's, the rate cut after `patience` epochs without progress."""


def test_reduce_lr_on_plateau_halves_the_rate_after_patience_epochs_without_progress():
    from numrnn.callbacks import ReduceLROnPlateau

    class Model:
        class optimizer:
            lr = 1.0

    plateau = ReduceLROnPlateau(factor=0.5, patience=2)
    plateau.set_model(Model)
    for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.5, 1.0, 1.5, 1.5]):
        plateau.on_epoch_begin(epoch)
        plateau.on_epoch_end(epoch, {"val_loss": loss})
    assert plateau.rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5] and Model.optimizer.lr == 0.25
