"""Human review facts the jobs need in their containers: the review input a loop carries, the one
parser of this project's answers, and consensus. The portal and the CLI import them from here."""
