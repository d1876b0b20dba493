"""Question 3, the theory answers checked by computation: ``theory`` (the feature map phi, A_theta,
c_theta, constructions of Theta, the closed-form least squares; numpy), ``optimise`` (gradient-based
fits; torch), ``checks`` (every claim, the tables the workflow writes).

This module holds the one fact the workflow needs while it reads its configuration, without
loading numpy: the size of the feature map.
"""


def feature_dim(D: int) -> int:
    """dim phi(x) = 1 + D + D + D(D-1)/2 = (D+1)(D+2)/2."""
    return (D + 1) * (D + 2) // 2
