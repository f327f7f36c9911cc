import json

from wmcourse import pipeline


def test_pipeline_stages_chain_their_files(tmp_path):
    names = [name for name, _ in pipeline.stages(tmp_path, pipeline.PipelineConfig())]
    assert names == ["collect", "train-vae", "encode", "train-mdnrnn", "evolve", "eval-agent"]
    argv = dict(pipeline.stages(tmp_path, pipeline.PipelineConfig()))
    assert argv["train-vae"][argv["train-vae"].index("--rollouts") + 1] == argv["collect"][argv["collect"].index("--out") + 1]
    assert argv["evolve"][argv["evolve"].index("--mdnrnn") + 1] == argv["train-mdnrnn"][argv["train-mdnrnn"].index("--out") + 1]


def test_tiny_pipeline_runs_end_to_end(tmp_path, monkeypatch):
    # the same stages, shrunk: a few short episodes, a few VAE steps, two CMA-ES generations
    small = pipeline.PipelineConfig(episodes=2, vae_epochs=1, mdnrnn_epochs=1, generations=2, population=4,
                                    rollouts=2, eval_episodes=2)
    stages = pipeline.stages(tmp_path, small)
    stages[0][1].extend(["--max-steps", "30"])
    stages[4][1].extend(["--max-steps", "30"])
    monkeypatch.setattr(pipeline, "stages", lambda runs, c: stages)
    report = pipeline.run_pipeline(tmp_path, small)
    assert [s["stage"] for s in report["stages"]][-1] == "eval-agent"
    result = report["stages"][-1]["result"]
    assert result["episodes"] == 2
    assert json.loads((tmp_path / "report.json").read_text())["stages"][0]["stage"] == "collect"
    assert "Real score" in (tmp_path / "report.md").read_text()
