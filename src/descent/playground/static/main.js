// The page: two tabs (keyboard: arrow keys move between them), each lab mounted once.
import { readString, writeState } from "./common.js";
import { mount as mountModelLab } from "./model-lab.js";
import { mount as mountRateLab } from "./rate-lab.js";

const tabs = [
  { tab: document.getElementById("tab-rate"), panel: document.getElementById("rate-lab"), name: "rate" },
  { tab: document.getElementById("tab-model"), panel: document.getElementById("model-lab"), name: "model" },
];

function select(name, focus = false) {
  for (const item of tabs) {
    const on = item.name === name;
    item.tab.setAttribute("aria-selected", String(on));
    item.tab.tabIndex = on ? 0 : -1;
    item.panel.hidden = !on;
    if (on && focus) item.tab.focus();
  }
  writeState("lab", name);
  window.dispatchEvent(new CustomEvent("lab-shown", { detail: name }));
}

tabs.forEach((item, index) => {
  item.tab.addEventListener("click", () => select(item.name));
  item.tab.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    select(next.name, true);
    event.preventDefault();
  });
});

mountRateLab(document.getElementById("rate-lab"));
mountModelLab(document.getElementById("model-lab"));
select(readString("lab") === "model" ? "model" : "rate");
document.body.dataset.ready = "true";
