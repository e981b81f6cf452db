"""The "Promote v3" dialog: point an alias (new or not) at the version, or split the alias's
traffic between the version and a candidate, the candidate's share in percent and the rest on
the version (`v3 90% · v4 10%`)."""

import reflex as rx

from app.components import field_error, labelled
from app.pages.agent.aliases import NAME_RULE, AliasesState


def _split_fields() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            labelled(
                "Candidate",
                rx.select(
                    AliasesState.candidate_choices,
                    value=AliasesState.promote_candidate,
                    on_change=AliasesState.set_promote_candidate,
                    placeholder="Choose a version",
                    width="100%",
                    id="promote-split-candidate",
                ),
            ),
            labelled(
                "Its share (%)",
                rx.input(
                    value=AliasesState.promote_weight,
                    on_change=AliasesState.set_promote_weight,
                    type="number",
                    min="1",
                    max="99",
                    width="100%",
                    id="promote-split-weight",
                ),
            ),
            spacing="3",
            width="100%",
            align="end",
        ),
        rx.text(
            "v",
            AliasesState.promote_number,
            " keeps the rest. A thread keeps the version it drew while the shares stay the same.",
            size="1",
            color_scheme="gray",
        ),
        field_error(AliasesState.promote_split_error, id="promote-split-error"),
        spacing="2",
        width="100%",
    )


def promote_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Promote v", AliasesState.promote_number),
            rx.vstack(
                labelled(
                    "Alias",
                    rx.input(
                        value=AliasesState.promote_name,
                        on_change=AliasesState.set_promote_name,
                        placeholder="staging",
                        width="100%",
                        id="promote-alias-name",
                    ),
                    f"{NAME_RULE} It is created if it does not exist.",
                ),
                field_error(AliasesState.promote_error, id="promote-alias-error"),
                rx.text(
                    rx.hstack(
                        rx.switch(
                            checked=AliasesState.promote_split,
                            on_change=AliasesState.set_promote_split,
                            id="promote-split",
                        ),
                        "Split traffic with another version",
                        align="center",
                        spacing="2",
                    ),
                    as_="label",
                    size="2",
                ),
                rx.cond(AliasesState.promote_split, _split_fields()),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Promote", on_click=AliasesState.save_promote, id="promote-alias-submit"
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
                width="100%",
            ),
            max_width="440px",
        ),
        open=AliasesState.promote_open,
        on_open_change=AliasesState.set_promote_open,
    )
