// Progressive enhancements; every page works without this script.
"use strict";

// A switch submits its form as soon as it is toggled, so the Continue button can hide.
document.querySelectorAll("form[data-switch-form]").forEach((form) => {
  const toggle = form.querySelector("input[role=switch]");
  const button = form.querySelector("button");
  if (!toggle || !button) {
    return;
  }
  button.hidden = true;
  toggle.addEventListener("change", () => form.submit());
});

// "Copy" buttons copy the text of the element their data-copy attribute names.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) {
      return;
    }
    await navigator.clipboard.writeText(source.innerText);
    button.textContent = "Copied";
  });
});
