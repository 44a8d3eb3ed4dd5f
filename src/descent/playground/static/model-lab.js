// The model lab (to be written).
export function mount(root) {
  root.append(document.createTextNode("model lab"));
}
