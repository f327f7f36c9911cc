import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors gain nothing from a second thread, and on a busy 2-core machine its barriers cost seconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_world_model(tmp_path_factory):
    """A tiny untrained V (z = 4) and M (hidden 8) on disk, and the config of a controller on [z, h]:
    enough to drive real CarRacing episodes with the V+M+C agent in tests (wmcourse.real_es)."""
    from wmcourse import controller, mdnrnn, vae

    folder = tmp_path_factory.mktemp("tiny_world_model")
    vae.save_vae(vae.build_vae(vae.VAEConfig(z_size=4, width=0.125), seed=0), folder / "vae.pt")
    torch.manual_seed(0)
    mdnrnn.save_mdnrnn(mdnrnn.MDNRNN(mdnrnn.MDNRNNConfig(z_size=4, hidden=8, K=2)), folder / "mdnrnn.pt")
    return folder / "vae.pt", folder / "mdnrnn.pt", controller.ControllerConfig(input_size=4 + 8, action_size=3)
