/* New chat buttons, and the sidebar as a drawer on small screens. */
import { ui } from './context.js';
import { newChat } from './conversation.js';

export function bindNavigation() {
  document.querySelectorAll('[data-action="new-chat"]').forEach((button) => button.addEventListener('click', newChat));
  ui.menuButton.addEventListener('click', () => {
    if (ui.app.classList.contains('sidebar-open')) closeSidebar(); else openSidebar();
  });
  ui.scrim.addEventListener('click', closeSidebar);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && ui.app.classList.contains('sidebar-open')) {
      closeSidebar();
      ui.menuButton.focus();
    }
  });
}

function openSidebar() {
  ui.app.classList.add('sidebar-open');
  ui.scrim.hidden = false;
  ui.menuButton.setAttribute('aria-expanded', 'true');
  const first = ui.sidebar.querySelector('button');
  if (first) first.focus();
}

export function closeSidebar() {
  if (!ui.app.classList.contains('sidebar-open')) return;
  ui.app.classList.remove('sidebar-open');
  ui.scrim.hidden = true;
  ui.menuButton.setAttribute('aria-expanded', 'false');
}
