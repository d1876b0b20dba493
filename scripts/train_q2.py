"""Train one Question 2 PyTorch model (rule `train_q2`)."""

import numpy as np

from homework1 import q2
from homework1.job.jobs import run_training_job

run_training_job(
    snakemake, "q2", q2.train, features_dtype=np.float32,
    device=snakemake.params.device, threads=snakemake.threads, implementation=snakemake.params.implementation,
    full_train_accuracy=snakemake.params.full_train_accuracy,
    checkpoint=q2.Checkpointing(snakemake.params.checkpoint, every=snakemake.config["checkpoint_every"],
                                keep=snakemake.config["keep_checkpoints"]),
)
